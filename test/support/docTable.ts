/**
 * A table of a documentation page (relative to the repository root, e.g. `docs/errors-and-bad-input.md`)
 * between `<!-- NAME: … -->` and `<!-- /NAME -->`: the numbered rows' cells, `\|` unescaped, code ticks kept.
 */
import fs from 'node:fs';
import path from 'node:path';

export function docTable(file: string, name: string): string[][] {
  const page = fs.readFileSync(path.join(__dirname, '..', '..', file), 'utf8');
  const table = new RegExp(`<!-- ${name}:[^>]*-->\\n([\\s\\S]*?)<!-- /${name} -->`).exec(page)?.[1] ?? '';
  const rows = table
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim().replace(/\\\|/g, '|')),
    );
  // A table moved or renamed must fail loudly, not leave its spec with nothing to run.
  if (rows.length === 0) throw new Error(`${file} has no rows between <!-- ${name}: … --> and <!-- /${name} -->`);
  return rows;
}

/** A cell written as `{"json": …}`. */
export const jsonCell = (cell: string): any => JSON.parse(cell.replace(/^`|`$/g, ''));
