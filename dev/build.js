// Compiles src/ into nodes/, copies icons/ to nodes/icons/ (the only place Node-RED looks for a
// node's icons: beside its .js file), and bundles the editor's helpers into resources/, which
// Node-RED serves to the editor at /resources/node-red-contrib-vonage-sms/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

const iconsOut = path.join(root, 'nodes', 'icons');
fs.rmSync(iconsOut, { recursive: true, force: true });
fs.cpSync(path.join(root, 'icons'), iconsOut, { recursive: true });

require('esbuild').buildSync({
  entryPoints: [path.join(root, 'src', 'editor', 'smsEditor.ts')],
  outfile: path.join(root, 'resources', 'vonage-sms-editor.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'VonageSmsEditor',
  platform: 'browser',
  target: 'es2018',
  legalComments: 'linked',
  logLevel: 'warning',
});
