// `npm run bench`: the bench as users run the package, in compiled JavaScript: dev/bench.ts is bundled
// with esbuild (every package left outside, the nodes required from nodes/ as npm installs them) into
// .bench/bench.js and run with plain Node.js, no TypeScript loader in the process. Arguments pass through.
// It measures what npm start runs: Node-RED 5, on this Node.js when it can run the package (engines), else
// on one fetched from the npm registry (dev/nodeRed5.js), which also installs the packed package.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { NODE_RED_5_PACKAGE, envFor, installNodeRed5, nodeForNodeRed5 } = require('./nodeRed5');

const root = path.join(__dirname, '..');
const outfile = path.join(root, '.bench', 'bench.js');
require('esbuild').buildSync({
  entryPoints: [path.join(root, 'dev', 'bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  packages: 'external',
  logLevel: 'warning',
});
const node = nodeForNodeRed5();
if (!installNodeRed5(node)) {
  console.error('Node-RED 5 could not be installed into dev/node-red-5');
  process.exit(1);
}
// A run of the test matrix names its own Node-RED.
const env = { ...envFor(node), NODE_RED_PACKAGE: process.env.NODE_RED_PACKAGE || NODE_RED_5_PACKAGE };
const run = spawnSync(node, ['--expose-gc', outfile, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
