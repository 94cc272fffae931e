/** A table of the README's between `<!-- NAME: … -->` and `<!-- /NAME -->`: the numbered rows' cells, `\|` unescaped, code ticks kept. */
import fs from 'node:fs';
import path from 'node:path';

export function readmeTable(name: string): string[][] {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const table = new RegExp(`<!-- ${name}:[^>]*-->\\n([\\s\\S]*?)<!-- /${name} -->`).exec(readme)?.[1] ?? '';
  return table
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, '|')));
}

/** A cell written as `{"json": …}`. */
export const jsonCell = (cell: string): any => JSON.parse(cell.replace(/^`|`$/g, ''));
