/**
 * A real redis-server (Debian's: apt-get install redis-server), started on 127.0.0.1 with no
 * persistence, for the tests (on a free port) and `npm start -- --redis`, and only ever stopped by
 * the process id it was started with: never a Redis that was not started here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './ports';

export const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

export interface RunningRedis {
  port: number;
  /** redis://[:password@]127.0.0.1:port/0 */
  url: string;
  /** Kills it (SIGKILL, as a crash would) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Every redis-server these tests started and have not stopped: killed when the test process exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function redisServerInstalled(): boolean {
  return spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function startRedis({ password, port: wanted }: { password?: string; port?: number } = {}): Promise<RunningRedis> {
  if (!redisServerInstalled()) throw new Error(`no ${REDIS_SERVER} on this machine: install Debian's (sudo apt-get install redis-server), or set REDIS_SERVER to another`);
  const port = wanted ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'];
    if (password) args.push('--requirepass', password);
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${output}`)), 10_000);
      const ready = async () => {
        // Ready once it answers: connect and PING.
        for (let i = 0; i < 100; i += 1) {
          if (started.exitCode !== null) break;
          const ok = await ping(port, password).catch(() => false);
          if (ok) {
            clearTimeout(timer);
            return resolve();
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        clearTimeout(timer);
        reject(new Error(`redis-server on port ${port} exited: ${output}`));
      };
      started.stdout!.on('data', (d) => (output += d));
      started.stderr!.on('data', (d) => (output += d));
      ready().catch(reject);
    });
  };

  const kill = async () => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null) return;
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await gone;
  };

  await launch();
  return {
    port,
    url: `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}/0`,
    kill,
    restart: launch,
    stop: kill,
  };
}

/** PING over a plain socket: true when the server answers PONG. */
async function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    socket.on('data', (d) => {
      data += d;
      if (data.includes('PONG')) {
        socket.end();
        resolve(true);
      } else if (data.includes('-')) {
        socket.end();
        resolve(false);
      }
    });
  });
}
