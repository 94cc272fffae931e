// `npm test` (and `npm run test:e2e`, with --e2e): type-checks, then runs the whole suite on Node-RED 5 (the
// main line) on Node.js 24 and on Node.js 26, and on Node-RED 4.1 (until its end of life) on Node.js 22, the
// lowest supported, then the runtime suite once more on Node-RED 5 with the state in Redis. Each Node.js
// comes from the npm registry's `node` package (dev/nodeRed5.js), whatever this machine's is. Ends with one
// line that counts every test of every run.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { NODE_RED_5_PACKAGE, envFor, installNodeRed5, nodeBinary, nodeForNodeRed5, nodeVersion, packageVersion } = require('./nodeRed5');

const root = path.join(__dirname, '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
// TypeScript 7's tsc (dev/build.js says why it is @typescript/native).
const tsc = path.join(path.dirname(require.resolve('@typescript/native/package.json')), 'bin', 'tsc');
const E2E = process.argv.includes('--e2e');
const SPECS = [
  'test/unit/**/*.spec.ts',
  'test/runtime/**/*.spec.ts',
  'test/packaging/**/*.spec.ts',
  'test/hostile/**/*.spec.ts',
  'test/instances/**/*.spec.ts',
  'test/proxy/**/*.spec.ts',
  'test/start/**/*.spec.ts',
  'test/bench/**/*.spec.ts',
];
const RUNTIME_SPECS = ['test/runtime/**/*.spec.ts'];
const E2E_SPECS = ['test/e2e/**/*.spec.ts'];
const NODE_RED_4 = path.dirname(require.resolve('node-red/package.json'));

// The shared-state tests start Debian's redis-server on free ports of their own: installed here when
// missing (as .ci/run does), so that `npm test` alone works on a fresh machine. Never started as a service.
function ensureRedisServer() {
  const server = process.env.REDIS_SERVER || 'redis-server';
  if (spawnSync(server, ['--version'], { stdio: 'ignore' }).status === 0) return;
  console.log("\n=== installing Debian's redis-server (apt-get install redis-server), for the shared-state tests");
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = (args) => spawnSync(root ? 'apt-get' : 'sudo', root ? args : ['-n', 'apt-get', ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', 'redis-server']);
  if (spawnSync(server, ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log('could not install redis-server: install it (sudo apt-get install redis-server) or set REDIS_SERVER; the shared-state tests fail without it');
  }
}

/**
 * Runs mocha on the Node.js `binary` (a path, or a spec like node@24 to fetch) against one Node-RED.
 * That Node.js comes first on the PATH, so that what the tests start by name (npm, node) runs on it too.
 */
function run({ nodeRed, node, specs, env = {}, what = '' }) {
  let binary;
  try {
    binary = node.startsWith('node@') ? nodeBinary(node) : node;
  } catch (err) {
    console.log(`\n=== Node-RED ${packageVersion(nodeRed)} on ${node}${what}: not run, ${err.message}`);
    return { ok: false, passed: 0, failed: 1 };
  }
  console.log(`\n=== Node-RED ${packageVersion(nodeRed)} on Node.js ${nodeVersion(binary)}${what}`);
  const started = Date.now();
  const result = spawnSync(binary, [mocha, ...specs], { cwd: root, env: envFor(binary, { ...process.env, NODE_RED_PACKAGE: nodeRed, ...env }), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(result.stdout || '');
  const passed = Number(/(\d+) passing/.exec(result.stdout || '')?.[1] ?? 0);
  const failed = Number(/(\d+) failing/.exec(result.stdout || '')?.[1] ?? 0);
  console.log(`=== ${passed} passed, ${failed} failed in ${Math.round((Date.now() - started) / 1000)} s`);
  return { ok: result.status === 0, passed, failed };
}

const typecheck = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.check.json'], { cwd: root, stdio: 'inherit' });
if (typecheck.status !== 0) {
  console.log('\ntype check failed');
  process.exit(1);
}

/** Node-RED 5 installed (with the Node.js npm start runs it on), or a failed run that says it is not. */
function nodeRed5Installed() {
  try {
    if (installNodeRed5(nodeForNodeRed5(), (line) => console.log(`\n=== ${line}`))) return true;
  } catch (err) {
    console.log(`\n=== ${err.message}`);
  }
  console.log('Node-RED 5 could not be installed into dev/node-red-5: its runs fail');
  return false;
}

const runs = [];
if (!nodeRed5Installed()) runs.push({ ok: false, passed: 0, failed: 1 });
else if (E2E) {
  // The end-to-end tests drive `npm start`'s Node-RED 5 in Chromium (this Node.js runs mocha and Chromium; npm
  // start runs Node-RED on a Node.js that can): one run.
  runs.push(run({ nodeRed: NODE_RED_5_PACKAGE, node: process.execPath, specs: E2E_SPECS, what: `, end-to-end in Chromium (npm start's Node-RED 5 on Node.js ${nodeVersion(nodeForNodeRed5())})` }));
} else {
  ensureRedisServer();
  runs.push(
    run({ nodeRed: NODE_RED_5_PACKAGE, node: 'node@24', specs: SPECS }),
    run({ nodeRed: NODE_RED_5_PACKAGE, node: 'node@26', specs: SPECS }),
    run({ nodeRed: NODE_RED_4, node: 'node@22', specs: SPECS }),
    // The runtime suite once more with every nexmobasic's state in Redis (a redis-server of its own):
    // what holds in memory holds with a Shared state too.
    run({ nodeRed: NODE_RED_5_PACKAGE, node: 'node@24', specs: RUNTIME_SPECS, env: { TEST_SHARED_STATE: 'redis' }, what: ", every account's state in Redis" }),
  );
}
const passed = runs.reduce((n, r) => n + r.passed, 0);
const failed = runs.reduce((n, r) => n + r.failed, 0);
const ok = runs.every((r) => r.ok) && passed > 0;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
