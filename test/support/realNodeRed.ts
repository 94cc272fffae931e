/**
 * A real Node-RED process (red.js of the runtime under test) with this package in its user
 * directory, as `npm link` would put it or as the palette manager installs it, on a free 127.0.0.1 port: for the tests that must see the
 * process itself (whether it lives, how much memory it holds) and Node-RED's own HTTP layouts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { npm, PALETTE_INSTALL_FLAGS } from '../../dev/paletteInstall';
import { NODE_RED_PACKAGE } from './nodeRed';
import { freePort } from './ports';
import { until } from './waitFor';

const ROOT = path.join(__dirname, '..', '..');
const MODULE = 'node-red-contrib-vonage-sms';

export interface RealNodeRedOptions {
  flows: unknown[];
  /** Node id → credentials, stored unencrypted (credentialSecret: false). */
  credentials: Record<string, Record<string, string>>;
  /** Merged into settings.js: httpAdminRoot, httpNodeRoot… */
  settings?: Record<string, unknown>;
  /** Options for Node.js itself, e.g. --max-old-space-size=256. */
  nodeOptions?: string[];
  /**
   * The package as the palette manager installs it (npm pack, then npm install with its flags, once
   * per test process and shared by every instance), rather than linked to this folder.
   */
  palette?: boolean;
  /**
   * Environment variables for the process, over the test process's own: https_proxy, no_proxy,
   * NODE_EXTRA_CA_CERTS… The proxy variables of the test process are never passed on (see `childEnv`).
   */
  env?: Record<string, string>;
}

/** Variables that send a process's HTTP through a proxy: a Node-RED under test has only those a test gives it. */
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy', 'node_use_env_proxy'];

/** The test process's environment without its proxy variables (in any case), then `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!PROXY_VARIABLES.includes(name.toLowerCase())) env[name] = value;
  }
  return { ...env, ...extra };
}

let paletteModules: string | undefined;

/** node_modules with the packed package installed as the palette manager does, made once per process. */
function paletteInstalled(): string {
  if (paletteModules) return paletteModules;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-palette-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true }));
  // --ignore-scripts: npm test has built already; prepack would build again.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT));
  npm(['install', ...PALETTE_INSTALL_FLAGS, '--', path.join(dir, packed.filename)], dir);
  paletteModules = path.join(dir, 'node_modules');
  return paletteModules;
}

export class RealNodeRed {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly userDir: string,
    /** http://127.0.0.1:PORT */
    readonly base: string,
    private readonly nodeOptions: string[] = [],
    private readonly env: Record<string, string> = {},
  ) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
  }

  static async start(options: RealNodeRedOptions): Promise<RealNodeRed> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-red-'));
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true, dependencies: { [MODULE]: '*' } }));
    if (options.palette) fs.symlinkSync(paletteInstalled(), path.join(userDir, 'node_modules'), 'dir');
    else {
      fs.mkdirSync(path.join(userDir, 'node_modules'));
      fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', MODULE), 'dir');
    }
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials));
    const port = await freePort();
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: false,
      telemetry: { enabled: false, updateNotification: false },
      logging: { console: { level: 'info' } },
      ...options.settings,
    };
    // Asked through a file (Node-RED takes SIGUSR2 for a restart), the process collects its garbage and writes
    // what it still holds: the test measures what Node-RED retains, not what the allocator keeps in reserve.
    const ask = JSON.stringify(path.join(userDir, 'memory.ask'));
    const answer = JSON.stringify(path.join(userDir, 'memory.json'));
    // It also samples its heap every few milliseconds, and reports the highest since it was last asked (peakHeapUsed).
    const memoryProbe =
      `let peakHeapUsed = 0; setInterval(() => { peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed); }, 5).unref();\n` +
      `setInterval(() => { const fs = require('fs'); if (!fs.existsSync(${ask})) return; fs.rmSync(${ask}); const peak = peakHeapUsed; global.gc(); const usage = process.memoryUsage(); peakHeapUsed = usage.heapUsed; fs.writeFileSync(${answer}, JSON.stringify({ ...usage, peakHeapUsed: Math.max(peak, usage.heapUsed) })); }, 50).unref();\n`;
    fs.writeFileSync(path.join(userDir, 'settings.js'), `${memoryProbe}module.exports = ${JSON.stringify(settings)};\n`);
    return RealNodeRed.launch(userDir, port, options.nodeOptions ?? [], options.env ?? {});
  }

  private static async launch(userDir: string, port: number, nodeOptions: string[], env: Record<string, string>): Promise<RealNodeRed> {
    const redJs = path.join(path.dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`)), 'red.js');
    const child = spawn(process.execPath, ['--expose-gc', ...nodeOptions, redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(env),
    });
    const red = new RealNodeRed(child, userDir, `http://127.0.0.1:${port}`, nodeOptions, env);
    try {
      // Node-RED starts its flows and its HTTP server side by side: wait for both.
      await until(
        () => {
          if (/Started flows/.test(red.output) && /Server now running/.test(red.output)) return true;
          if (child.exitCode !== null) throw new Error('Node-RED exited');
          return false;
        },
        { what: 'Node-RED to start', timeoutMs: 60_000, everyMs: 100 },
      );
    } catch {
      await red.stop();
      throw new Error(`Node-RED did not start:\n${red.output}`);
    }
    return red;
  }

  /**
   * The same Node-RED again, on the same user directory and port, after it stopped as Ctrl-C would or,
   * with `crash`, was killed at once (SIGKILL: nothing of it runs on). Resolves with the new process.
   */
  async restart(options: { crash?: boolean } = {}): Promise<RealNodeRed> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(options.crash ? 'SIGKILL' : 'SIGINT');
    await exited;
    return RealNodeRed.launch(this.userDir, Number(new URL(this.base).port), this.nodeOptions, this.env);
  }

  /** Kills Node-RED at once (SIGKILL, as the OOM killer or a power cut would: nothing of it runs on). */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /**
   * Deploys `flows` in place of the running ones (a full deployment, as the editor's Deploy button does);
   * a node's `credentials` go with it, as the editor sends them. Resolves once the new flows started
   * (Node-RED answers the deployment first).
   */
  async deploy(flows: unknown[]): Promise<void> {
    const started = () => this.output.split('Started flows').length;
    const before = started();
    const res = await fetch(`${this.base}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v1', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    if (res.status !== 204 && res.status !== 200) throw new Error(`deploying flows: HTTP ${res.status} ${await res.text()}`);
    await until(() => started() > before, { what: 'the deployed flows to start' });
  }

  get log(): string {
    return this.output;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory of the process, in MiB (from /proc). */
  rssMiB(): number {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
  }

  /** Heap and external memory (Buffers) in MiB that the process still holds after a full garbage collection. */
  async retainedMiB(): Promise<number> {
    const usage = await this.memoryUsage();
    return (usage.heapUsed + usage.external) / 2 ** 20;
  }

  /**
   * process.memoryUsage() after a full garbage collection, with `peakHeapUsed`: the most heap the
   * process used (garbage included) since the last time it was asked, sampled every 5 ms.
   */
  async memoryUsage(): Promise<NodeJS.MemoryUsage & { peakHeapUsed: number }> {
    const file = path.join(this.userDir, 'memory.json');
    fs.rmSync(file, { force: true });
    fs.writeFileSync(path.join(this.userDir, 'memory.ask'), '');
    // Until the answer is there, and whole (the process may be writing it still).
    const whole = () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as NodeJS.MemoryUsage & { peakHeapUsed: number };
      } catch {
        return undefined;
      }
    };
    return until(whole, { what: 'Node-RED to report its memory', everyMs: 50 });
  }

  /** Stops Node-RED as Ctrl-C would (its flows stop, SMS in hands on what waits); resolves with its exit code. */
  async stop(): Promise<number | null> {
    if (this.alive) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
    return this.child.exitCode;
  }
}
