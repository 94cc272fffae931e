// `npm run bench`: the bench as users run the package, in compiled JavaScript: dev/bench.ts is bundled
// with esbuild (every package left outside, the nodes required from nodes/ as npm installs them) into
// .bench/bench.js and run with plain Node.js, no TypeScript loader in the process. Arguments pass through.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const outfile = path.join(root, '.bench', 'bench.js');
require('esbuild').buildSync({
  entryPoints: [path.join(root, 'dev', 'bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
