// `npm test` (and `npm run test:e2e`, with --e2e): type-checks, then runs the whole suite on Node-RED 4.1 (this Node.js) and on
// Node-RED 5 (Node.js 24 from the npm registry's `node` package, since Node-RED 5 needs >= 22.9),
// and ends with one line that counts every test of both runs.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
// TypeScript 7's tsc (dev/build.js says why it is @typescript/native).
const tsc = path.join(path.dirname(require.resolve('@typescript/native/package.json')), 'bin', 'tsc');
const E2E = process.argv.includes('--e2e');
const SPECS = ['test/unit/**/*.spec.ts', 'test/runtime/**/*.spec.ts', 'test/packaging/**/*.spec.ts', 'test/hostile/**/*.spec.ts', 'test/instances/**/*.spec.ts', 'test/start/**/*.spec.ts', 'test/bench/**/*.spec.ts'];
const E2E_SPECS = ['test/e2e/**/*.spec.ts'];
const NODE_FOR_NODE_RED_5 = process.env.NODE_FOR_NODE_RED_5 || 'node@24';
// Node-RED 5 is not a devDependency (it would make npm install on Node.js 20 warn EBADENGINE): it has a
// folder of its own, installed here from its lockfile with the Node.js it runs on.
const NODE_RED_5_DIR = path.join(root, 'dev', 'node-red-5');
const NODE_RED_5 = path.join(NODE_RED_5_DIR, 'node_modules', 'node-red');

function installNodeRed5() {
  const wanted = require(path.join(NODE_RED_5_DIR, 'package.json')).dependencies['node-red'];
  let installed;
  try {
    installed = JSON.parse(require('node:fs').readFileSync(path.join(NODE_RED_5, 'package.json'), 'utf8')).version;
  } catch {
    installed = undefined;
  }
  if (installed === wanted) return true;
  console.log(`\n=== installing Node-RED ${wanted} into dev/node-red-5 with ${NODE_FOR_NODE_RED_5}`);
  const result = spawnSync('npx', ['-y', '-p', NODE_FOR_NODE_RED_5, '--', 'npm', 'ci', '--no-audit', '--no-fund'], { cwd: NODE_RED_5_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  return result.status === 0;
}

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

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}`);
  const result = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(result.stdout || '');
  const passed = Number(/(\d+) passing/.exec(result.stdout || '')?.[1] ?? 0);
  const failed = Number(/(\d+) failing/.exec(result.stdout || '')?.[1] ?? 0);
  return { ok: result.status === 0, passed, failed };
}

const typecheck = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.check.json'], { cwd: root, stdio: 'inherit' });
if (typecheck.status !== 0) {
  console.log('\ntype check failed');
  process.exit(1);
}

// The end-to-end tests drive `npm start`'s Node-RED (4.1) in Chromium: one run.
if (!E2E) ensureRedisServer();
const runs = E2E
  ? [run('end-to-end, in Chromium', process.execPath, [mocha, ...E2E_SPECS])]
  : [
      run('Node-RED 4.1 on Node.js ' + process.version, process.execPath, [mocha, ...SPECS], { NODE_RED_PACKAGE: 'node-red' }),
      installNodeRed5() ? run(`Node-RED 5 on ${NODE_FOR_NODE_RED_5}`, 'npx', ['-y', '-p', NODE_FOR_NODE_RED_5, '--', 'node', mocha, ...SPECS], { NODE_RED_PACKAGE: NODE_RED_5 }) : { ok: false, passed: 0, failed: 1 },
      // The runtime suite once more with every nexmobasic's state in Redis (a redis-server of its own):
      // what holds in memory holds with a Shared state too.
      run("Node-RED 4.1, every account's state in Redis", process.execPath, [mocha, 'test/runtime/**/*.spec.ts'], { NODE_RED_PACKAGE: 'node-red', TEST_SHARED_STATE: 'redis' }),
    ];
const passed = runs.reduce((n, r) => n + r.passed, 0);
const failed = runs.reduce((n, r) => n + r.failed, 0);
const ok = runs.every((r) => r.ok) && passed > 0;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
