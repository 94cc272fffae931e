/**
 * The layers of src/, one way: the SMS domain (src/sms, pure), then Vonage (src/vonage) and state
 * (src/state), neither using the other; then sending (the queue and its rate limiters), the account,
 * the webhooks, and the node files on top. No import runs back up and none goes in a circle, type-only
 * imports included. `npm test` runs this; alone: `node node_modules/mocha/bin/mocha.js test/unit/layers.spec.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';

const SRC = path.join(__dirname, '..', '..', 'src');

/** Each folder's layer; the node files (src/*.ts) and the editor's bundle sit on top. */
const LAYERS: Record<string, number> = { sms: 0, vonage: 1, state: 1, 'node-red': 1, sending: 2, account: 3, webhooks: 4, editor: 5, '.': 5 };

type Graph = Map<string, string[]>;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** Every file of src/ and the files of src/ it imports (import, import type, export … from, dynamic import). */
function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => {
      const target = path.resolve(path.dirname(file), m[1]);
      return fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts');
    });
    graph.set(file, targets);
  }
  return graph;
}

function folderOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? '.' : rel[0];
}

/** Imports that run back up, or across between two folders of one layer. */
function wrongWay(graph: Graph, folder: (file: string) => string = folderOf): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = folder(file);
      const to = folder(target);
      if (from === to) continue;
      const [a, b] = [LAYERS[from], LAYERS[to]];
      if (a === undefined || b === undefined) wrong.push(`${from} or ${to} has no layer`);
      else if (b >= a) wrong.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
    }
  }
  return wrong;
}

/** The import cycles, each as the files on it. */
function cycles(graph: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    trail.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') found.push(trail.slice(trail.indexOf(target)).map((f) => path.relative(SRC, f)));
      else if (!state.has(target)) visit(target);
    }
    trail.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the layers of src/', () => {
  const graph = importGraph();

  it('reads the imports of every file (the check has something to check)', () => {
    should(graph.size).be.above(40);
    const queue = graph.get(path.join(SRC, 'sending', 'sendQueue.ts'));
    should(queue).be.an.Array();
    should(queue!.length).be.above(0);
  });

  it('has no import that runs back up, and none between Vonage and state', () => {
    should(wrongWay(graph)).eql([]);
  });

  it('has no import cycle', () => {
    should(cycles(graph)).eql([]);
  });

  it('would see an upward import, a Vonage–state import and a cycle', () => {
    const f = (name: string) => path.join(SRC, name);
    const bad: Graph = new Map([
      [f('sms/a.ts'), [f('vonage/b.ts')]],
      [f('vonage/b.ts'), [f('state/c.ts')]],
      [f('state/c.ts'), [f('sms/a.ts')]],
    ]);
    should(wrongWay(bad)).eql(['sms/a.ts → vonage/b.ts', 'vonage/b.ts → state/c.ts']);
    should(cycles(bad)).have.length(1);
  });
});
