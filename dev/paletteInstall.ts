import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What Node-RED's palette manager passes to `npm install` (@node-red/registry/lib/installer.js). */
export const PALETTE_INSTALL_FLAGS = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];

/**
 * Runs the npm that came with this Node.js (so that --engine-strict judges against the Node.js in
 * use), or the npm on the PATH.
 */
export function npm(args: string[], cwd: string): string {
  const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const command = fs.existsSync(npmCli) ? [process.execPath, npmCli] : ['npm'];
  return execFileSync(command[0], [...command.slice(1), ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
