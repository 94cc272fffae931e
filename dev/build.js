// Compiles src/ into nodes/, copies icons/ to nodes/icons/ (the only place Node-RED looks for a
// node's icons: beside its .js file), and bundles the editor's helpers into resources/, which
// Node-RED serves to the editor at /resources/node-red-contrib-vonage-sms/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// TypeScript 7's tsc, as @typescript/native: `typescript` is TypeScript 6 (@typescript/typescript6), the
// JavaScript API that typescript-eslint needs and TypeScript 7 does not have yet (TypeScript's own
// side-by-side setup).
const tsc = path.join(path.dirname(require.resolve('@typescript/native/package.json')), 'bin', 'tsc');
// Compiled files of modules that moved or went would stay behind (and be packed): nodes/ keeps only its
// hand-written editor files (.html, locales) between builds.
(function removeCompiled(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) removeCompiled(file);
    else if (entry.name.endsWith('.js')) fs.rmSync(file);
  }
  if (dir !== path.join(root, 'nodes') && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
})(path.join(root, 'nodes'));
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
