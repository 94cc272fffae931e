/** `npm start` (dev/start.ts) in a user directory of its own, on free ports, for as long as a test needs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { until } from './waitFor';

export const ROOT = path.join(__dirname, '..', '..');
export const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface RunningStart {
  env: NodeJS.ProcessEnv;
  userDir: string;
  editorUrl: string;
  loopbackUrl: string;
  output(): string;
  /** Resolves once the output matches, or rejects after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Stops npm start; its user directory goes too, unless kept for another start. */
  stop(options?: { keepUserDir?: boolean }): Promise<void>;
}

/** @param reuse a user directory an earlier start kept, to start again in it (on new ports). */
export async function startTutorial(args: string[] = [], reuse?: string): Promise<RunningStart> {
  const userDir = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-start-'));
  const env = {
    ...process.env,
    NODE_RED_USER_DIR: userDir,
    PORT: String(await freePort()),
    LOOPBACK_PORT: String(await freePort()),
    // For --redis: the second Node-RED and the redis-server.
    SECOND_PORT: String(await freePort()),
    REDIS_PORT: String(await freePort()),
  };
  const child: ChildProcess = spawn(process.execPath, [TSX, 'dev/start.ts', ...args], { cwd: ROOT, env });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const running: RunningStart = {
    env,
    userDir,
    editorUrl: `http://127.0.0.1:${env.PORT}`,
    loopbackUrl: `http://127.0.0.1:${env.LOOPBACK_PORT}`,
    output: () => output,
    async waitFor(pattern, timeoutMs = 10_000) {
      try {
        await until(
          () => {
            if (pattern.test(output)) return true;
            if (child.exitCode !== null) throw new Error('npm start exited');
            return false;
          },
          { what: `npm start to print ${pattern}`, timeoutMs, everyMs: 100 },
        );
      } catch {
        throw new Error(`npm start never printed ${pattern}:\n${output}`);
      }
    },
    async stop(options = {}) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      if (!options.keepUserDir) fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
  // Node-RED starts its flows and its HTTP server side by side: either may come first. With --redis, two of them.
  const instances = args.includes('--redis') ? 2 : 1;
  const times = (pattern: string) => new RegExp(`(${pattern}[\\s\\S]*){${instances}}`);
  await running.waitFor(times('Started flows'), 120_000);
  await running.waitFor(times('Server now running at'), 30_000);
  return running;
}
