/**
 * Every link of the README, of the docs/ pages and of the nodes' editor help leads somewhere, on GitHub
 * and in the published package alike: a relative link names a file that `npm pack` ships (and a heading
 * of it, when it has a #fragment); a link into this repository on GitHub names a file that is here.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { npm } from '../../dev/paletteInstall';

const ROOT = path.join(__dirname, '..', '..');
const REPO = 'node-red-contrib-vonage-sms/node-red-contrib-vonage-sms';
// What GitHub serves of this repository's main branch: pages, folders and raw files.
const IN_REPO = new RegExp(`^https://(?:github\\.com/${REPO}/(?:blob|tree)/main|raw\\.githubusercontent\\.com/${REPO}/main)/([^#?]*)(?:#(.*))?$`);

/** The links of a Markdown page, with code blocks and code spans left out. */
function markdownLinks(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<(https?:\/\/[^>\s]+)>/g)].map((m) => m[1] ?? m[2]);
}

/** The #fragments GitHub gives a page's headings. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return result;
}

describe('the links of the README, the docs and the editor help', function () {
  this.timeout(60_000);
  let shipped: string[] = [];
  let pages: string[] = [];

  before(() => {
    const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT));
    shipped = packed.files.map((f: { path: string }) => f.path);
    pages = [
      'README.md',
      ...fs
        .readdirSync(path.join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
  });

  it('ships the README, every docs/ page and BENCHMARKS.md', () => {
    should(shipped).containDeep(pages);
    should(shipped).containEql('BENCHMARKS.md');
  });

  it('has each relative link name a file the package ships, and each #fragment a heading of it', () => {
    const broken: string[] = [];
    let count = 0;
    for (const page of pages) {
      for (const link of markdownLinks(fs.readFileSync(path.join(ROOT, page), 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
        count += 1;
        const [target, fragment] = link.split('#');
        const file = target ? path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(target))) : page;
        if (!shipped.includes(file)) {
          broken.push(`${page}: ${link} (${file} is not in the package)`);
        } else if (fragment && file.endsWith('.md') && !anchors(fs.readFileSync(path.join(ROOT, file), 'utf8')).has(fragment)) {
          broken.push(`${page}: ${link} (no such heading in ${file})`);
        }
      }
    }
    should(count).be.above(10);
    should(broken).be.empty();
  });

  it('has each link into this repository on GitHub name a file of it, and each #fragment a heading of it', () => {
    const help = fs
      .readdirSync(path.join(ROOT, 'nodes', 'locales', 'en-US'))
      .filter((f) => f.endsWith('.html'))
      .map((f) => `nodes/locales/en-US/${f}`);
    const broken: string[] = [];
    let count = 0;
    for (const page of [...pages, ...help]) {
      const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
      const links = page.endsWith('.md') ? markdownLinks(text) : [...text.matchAll(/\shref="([^"]+)"/g)].map((m) => m[1]);
      for (const link of links) {
        const m = IN_REPO.exec(link);
        if (!m) continue;
        count += 1;
        const file = decodeURI(m[1]).replace(/\/$/, '');
        if (!fs.existsSync(path.join(ROOT, file))) {
          broken.push(`${page}: ${link} (no ${file} here)`);
        } else if (m[2] && file.endsWith('.md') && !anchors(fs.readFileSync(path.join(ROOT, file), 'utf8')).has(m[2])) {
          broken.push(`${page}: ${link} (no such heading in ${file})`);
        }
      }
    }
    should(count).be.above(10);
    should(broken).be.empty();
  });

  it('gives each node help References to the docs/ pages', () => {
    for (const type of ['nexmobasic', 'sendsms', 'vonage-sms-in', 'vonage-sms-receipt', 'vonage-optout', 'vonage-sms-usage']) {
      const help = fs.readFileSync(path.join(ROOT, 'nodes', 'locales', 'en-US', `${type}.html`), 'utf8');
      should(help).match(/<h3>References<\/h3>/, `${type}'s help has no References`);
      should(help).match(new RegExp(`href="https://github\\.com/${REPO}/blob/main/docs/[a-z-]+\\.md`), `${type}'s help links no docs/ page`);
    }
  });
});
