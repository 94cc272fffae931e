/**
 * A real forwarding HTTP proxy in its own process (forwardProxyServer.js) on a free 127.0.0.1 port, for
 * the proxy tests: CONNECT tunnels and absolute-form requests, optionally asking for a user and password,
 * or refusing everything with 502. What it saw is in `seen`, in order, once `sync()` has resolved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { until } from './waitFor';

export interface ForwardProxyOptions {
  /** Asked in Proxy-Authorization (Basic): without them, or with others, the proxy answers 407. */
  user?: string;
  password?: string;
  /** Refuse every CONNECT and request with this status (after the authentication): 502. */
  refuse?: number;
}

export interface ProxyEvent {
  kind: 'connect' | 'request';
  method: string;
  /** host:port for a CONNECT, the absolute URL for a request. */
  target: string;
  auth: 'none' | 'ok' | 'missing' | 'wrong';
  /** The client's TCP connection to the proxy, numbered from 1. */
  connection: number;
  /** What the proxy answered (200 for a tunnel opened), or the upstream's status. */
  status: number;
  error?: string;
}

export class ForwardProxy {
  /** What it saw, in order (complete up to the last `sync()`). */
  readonly seen: ProxyEvent[] = [];
  private port = 0;
  private syncs = 0;
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line);
        if (event.kind === 'listening') this.port = event.port;
        else if (event.kind === 'sync') this.syncs += 1;
        else this.seen.push(event);
      }
    });
    child.stderr!.on('data', (d) => (this.output += d));
  }

  static async start(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
    const child = spawn(process.execPath, [path.join(__dirname, 'forwardProxyServer.js')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, FORWARD_PROXY_CONFIG: JSON.stringify(options) },
    });
    const proxy = new ForwardProxy(child);
    await until(
      () => {
        if (child.exitCode !== null) throw new Error(`the forward proxy exited: ${proxy.output}`);
        return proxy.port;
      },
      { what: 'the forward proxy to listen' },
    );
    return proxy;
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Its URL with a user and password in it: http://user:password@127.0.0.1:PORT */
  urlWith(user: string, password: string): string {
    return `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  /** Resolves once every event the proxy wrote so far is in `seen`. */
  async sync(): Promise<ProxyEvent[]> {
    const wanted = this.syncs + 1;
    this.child.stdin!.write('sync\n');
    await until(() => this.syncs >= wanted, { what: 'the forward proxy to answer a sync' });
    return this.seen;
  }

  /** The CONNECTs it saw (after a sync). */
  get connects(): ProxyEvent[] {
    return this.seen.filter((e) => e.kind === 'connect');
  }

  /** The absolute-form requests it saw (after a sync). */
  get requests(): ProxyEvent[] {
    return this.seen.filter((e) => e.kind === 'request');
  }

  clear(): void {
    this.seen.length = 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
