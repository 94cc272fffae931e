// Node-RED 5, the main line, for npm start (dev/start.ts) and npm test (dev/test-all.js): where it is
// installed, a Node.js that runs it, and the Node.js releases the tests fetch from the npm registry's
// `node` package (npx -p node@24), so that both work from a machine whose own Node.js is older.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// Node-RED 5 is not a devDependency (npm install on an older Node.js would warn EBADENGINE, and the
// devDependency is Node-RED 4.1 for the other run): it has a folder of its own, installed from its lockfile.
const NODE_RED_5_DIR = path.join(__dirname, 'node-red-5');
const NODE_RED_5_PACKAGE = path.join(NODE_RED_5_DIR, 'node_modules', 'node-red');
// The lowest Node.js that runs both Node-RED 5 (engines >=22.9) and this package (engines >=22.12, which the
// palette install's --engine-strict holds it to).
const LOWEST_NODE = ['22.9', require('../package.json').engines.node.replace(/^>=\s*/, '')]
  .map((version) => version.split('.').map(Number))
  .reduce((a, b) => (a[0] > b[0] || (a[0] === b[0] && (a[1] ?? 0) >= (b[1] ?? 0)) ? a : b));
// The Node.js fetched when this one is too old for Node-RED 5.
const DEFAULT_NODE = 'node@24';

/** The version a package.json names, or undefined when there is none. */
function packageVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

const binaries = new Map();

/**
 * The path of a Node.js binary from the npm registry's `node` package (`node@24`), fetched by npx into
 * its cache the first time. Throws, saying what failed, when it cannot be had (offline, a version that
 * does not exist).
 */
function nodeBinary(spec) {
  if (binaries.has(spec)) return binaries.get(spec);
  const result = spawnSync('npx', ['-y', '-p', spec, '--', 'node', '-p', 'process.execPath'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const binary = result.status === 0 ? result.stdout.trim() : '';
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(`could not fetch Node.js ${spec} from the npm registry (npx -y -p ${spec} -- node): ${(result.stderr || result.error?.message || '').trim() || `exit ${result.status}`}`);
  }
  binaries.set(spec, binary);
  return binary;
}

/** The version (v24.1.0) of a Node.js binary. */
function nodeVersion(binary) {
  if (binary === process.execPath) return process.version;
  return execFileSync(binary, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
}

/** This Node.js when Node-RED 5 and this package run on it, else one fetched from the npm registry (node@24). */
function nodeForNodeRed5() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const [needMajor, needMinor = 0] = LOWEST_NODE;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return process.execPath;
  return nodeBinary(DEFAULT_NODE);
}

/**
 * The environment for a child that runs on `binary`: its folder first on the PATH, so that the npm and
 * node the child starts by name (npm install, as Node-RED's palette manager runs it) are that Node.js too.
 */
function envFor(binary, env = process.env) {
  return { ...env, PATH: `${path.dirname(binary)}${path.delimiter}${env.PATH ?? ''}` };
}

/**
 * Installs Node-RED 5 into dev/node-red-5 from its lockfile, with the npm of the Node.js given (one
 * that runs it), unless the version its package.json names is there already. Returns whether it is.
 */
function installNodeRed5(binary, log = console.log) {
  const wanted = require(path.join(NODE_RED_5_DIR, 'package.json')).dependencies['node-red'];
  if (packageVersion(NODE_RED_5_PACKAGE) === wanted) return true;
  log(`installing Node-RED ${wanted} into dev/node-red-5 (npm ci, on Node.js ${nodeVersion(binary)})`);
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: NODE_RED_5_DIR, env: envFor(binary), stdio: ['ignore', 'inherit', 'inherit'] });
  return result.status === 0 && packageVersion(NODE_RED_5_PACKAGE) === wanted;
}

module.exports = { NODE_RED_5_DIR, NODE_RED_5_PACKAGE, packageVersion, nodeBinary, nodeVersion, nodeForNodeRed5, envFor, installNodeRed5 };
