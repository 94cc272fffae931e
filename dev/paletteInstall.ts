import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What Node-RED's palette manager passes to `npm install` (@node-red/registry/lib/installer.js). */
export const PALETTE_INSTALL_FLAGS = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];

/**
 * Runs the npm that came with the Node.js `node` (this one unless told), so that --engine-strict judges
 * against the Node.js that runs Node-RED, or the npm on the PATH run by that Node.js (first on the PATH).
 */
export function npm(args: string[], cwd: string, node: string = process.execPath): string {
  const npmCli = path.join(path.dirname(node), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const command = fs.existsSync(npmCli) ? [node, npmCli] : ['npm'];
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  return execFileSync(command[0], [...command.slice(1), ...args], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
