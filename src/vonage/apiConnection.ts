/**
 * The way to one Vonage API host: JSON requests over Node's own http/https, on connections kept open
 * between requests (Vonage recommends keep-alive to reach the rate limit). One per client, so one per
 * account. Node's fetch did the same job at about twice the cost a request (measured when choosing: 0.60 ms
 * against 0.31 ms for one SMS to the loopback API).
 *
 * Through a proxy when the account has one for this host (proxy.ts): HTTPS in a CONNECT tunnel, one a
 * connection, kept open like any other (TunnelAgent); plain HTTP to the proxy in absolute form.
 *
 * Rejects only with what the transport throws (no answer in time: a TimeoutError; a connection that
 * failed: Node's error, with its `code`; the proxy refusing or out of reach: a ProxyError), for
 * `transportFailure` to put in words, each marked with `written` (see `RequestWritten`). The request's
 * headers (its Authorization, the proxy's Proxy-Authorization) are never part of an error.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ProxyError, type Proxy } from './proxy';

export interface ApiAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** An answer longer than this is not read: no Vonage API answer comes near it. */
const MAX_ANSWER_BYTES = 1_000_000;
/**
 * Connections open at once, at most, for one account: enough for any rate Vonage grants at its usual
 * answer times; more requests wait for one of them (opening a connection for each of 1,000 requests at
 * once costs more than it saves: BENCHMARKS.md, measure 1).
 */
const MAX_CONNECTIONS = 50;
/**
 * An idle connection is closed after this long, before a server's own idle timeout (Node's is 5 s) can
 * close it just as a request is written on it; a connection is opened again for the next request.
 */
const IDLE_MS = 4_000;

/** No answer in time, after the request was written: it may have reached Vonage. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** No connection in time (none free, or none opened): nothing was written, nothing sent. */
export class ConnectTimeoutError extends Error {
  readonly code = 'CONNECT_TIMEOUT';

  constructor(message: string) {
    super(message);
    this.name = 'ConnectTimeoutError';
  }
}

/**
 * Set on every error a request rejects with: whether the whole request had been written (its last byte
 * handed to the connection: the request's 'finish' event) when it failed. A request not written whole
 * cannot have been carried out (no server acts on half a body of a stated Content-Length), so a
 * connection reset before it is "not sent"; once written, a reset or no answer "may have been sent".
 */
export interface RequestWritten {
  written?: boolean;
}

/**
 * An https.Agent whose connections are CONNECT tunnels through the proxy: each tunnel carries TLS to the
 * API host end to end (the proxy sees only the host name and port), and is pooled and kept open as a
 * direct connection is. A refusal (407, 502…) or a proxy out of reach fails the request with a ProxyError
 * before anything was written.
 */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: Proxy,
    private readonly timeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const done = callback ?? (() => undefined);
    // An IPv6 address in brackets, as a request line writes it.
    const target = `${String(options.host).includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const headers: Record<string, string> = { Host: target };
    if (this.proxy.authorization) headers['Proxy-Authorization'] = this.proxy.authorization;
    const connect = http.request({ host: this.proxy.host, port: this.proxy.port, method: 'CONNECT', path: target, headers, agent: false, setHost: false });
    let settled = false;
    const settle = (err: Error | null, stream?: Duplex) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(err, stream as Duplex);
    };
    const timer = setTimeout(() => {
      connect.destroy();
      settle(ProxyError.noTunnel(this.proxy, target, this.timeoutMs / 1000));
    }, this.timeoutMs);
    connect.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        return settle(ProxyError.refused(this.proxy, target, response.statusCode ?? 0, response.statusMessage));
      }
      // TLS to the API host inside the tunnel, with the host's name for SNI and the certificate check.
      settle(null, super.createConnection({ ...options, socket } as https.RequestOptions) as Duplex);
    });
    // A proxy that answers CONNECT with an ordinary response (no tunnel): a refusal all the same.
    connect.once('response', (response) => {
      response.resume();
      settle(ProxyError.refused(this.proxy, target, response.statusCode ?? 0, response.statusMessage));
    });
    connect.on('error', (err: NodeJS.ErrnoException) => settle(ProxyError.unreachable(this.proxy, err.code)));
    connect.end();
    return undefined;
  }
}

/**
 * At most `size` requests at once; the rest wait their turn, in order. The Agent's own maxSockets cannot
 * bound tunnels: it counts a connection only once made, and a tunnel is made later (after its CONNECT),
 * so a burst behind a slow proxy would open a tunnel for every request at once.
 */
class Turns {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  /** Resolves with the function that ends the turn; false when none came within `timeoutMs`. */
  take(timeoutMs: number): Promise<(() => void) | false> {
    const release = () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
    if (this.active < this.size) {
      this.active += 1;
      return Promise.resolve(release);
    }
    return new Promise((resolve) => {
      const go = () => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(go), 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(go);
    });
  }
}

export class ApiConnection {
  private readonly agent: http.Agent;
  /** Through a tunnel: the requests under way, at most MAX_CONNECTIONS (see Turns). */
  private readonly turns: Turns | undefined;
  private readonly transport: typeof http | typeof https;
  /** A plain-HTTP host through the proxy: the request goes to the proxy, in absolute form. */
  private readonly viaProxy: Proxy | undefined;
  /** How the host is reached, for words: `https://rest.nexmo.com`, `… (through the proxy http://…)`. */
  readonly where: string;

  /**
   * @param host `https://rest.nexmo.com`, `http://127.0.0.1:PORT`…: paths are appended to it as text.
   * @param proxy the proxy this host is reached through (proxy.ts, `proxyFor`), or none.
   */
  constructor(
    readonly host: string,
    private readonly timeoutMs: number,
    readonly proxy?: Proxy,
  ) {
    const secure = host.startsWith('https:');
    this.transport = secure ? https : http;
    const options = { keepAlive: true, timeout: IDLE_MS, scheduling: 'lifo' as const, maxSockets: MAX_CONNECTIONS };
    this.agent = proxy && secure ? new TunnelAgent(proxy, timeoutMs, options) : new this.transport.Agent(options);
    this.turns = proxy && secure ? new Turns(MAX_CONNECTIONS) : undefined;
    this.viaProxy = proxy && !secure ? proxy : undefined;
    this.where = proxy ? `${host} (through the proxy ${proxy.label})` : host;
  }

  /** @param timeoutMs for this request alone; the connection's own by default. */
  async request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string, timeoutMs = this.timeoutMs): Promise<ApiAnswer> {
    if (!this.turns) return this.send(method, path, headers, body, timeoutMs);
    const asked = Date.now();
    const release = await this.turns.take(timeoutMs);
    // No turn in time: nothing was written, as with no connection in time.
    if (!release) throw Object.assign(new ConnectTimeoutError('no connection in time'), { written: false });
    try {
      return await this.send(method, path, headers, body, Math.max(1, timeoutMs - (Date.now() - asked)));
    } finally {
      release();
    }
  }

  private send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<ApiAnswer> {
    return new Promise<ApiAnswer>((resolve, reject) => {
      let request: http.ClientRequest;
      const all = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
      const proxy = this.viaProxy;
      try {
        if (proxy) {
          // Absolute form: the proxy reads the host from the request line; Host names the API host.
          const toProxy: Record<string, string> = { ...all, Host: new URL(this.host).host };
          if (proxy.authorization) toProxy['Proxy-Authorization'] = proxy.authorization;
          request = http.request({ host: proxy.host, port: proxy.port, method, path: `${this.host}${path}`, agent: this.agent, headers: toProxy });
        } else {
          request = this.transport.request(`${this.host}${path}`, { method, agent: this.agent, headers: all });
        }
      } catch (err) {
        // Refused before any connection (an invalid URL or header): nothing was written.
        if (err && typeof err === 'object') (err as RequestWritten).written = false;
        return reject(err);
      }
      let timedOut = false;
      // Written only once a connection is open: until then, a timeout means nothing was sent.
      let connected = false;
      request.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy(connected ? new TimeoutError('no answer in time') : new ConnectTimeoutError('no connection in time'));
      }, timeoutMs);
      let written = false;
      request.once('finish', () => (written = true));
      const failed = (err: Error) => {
        // Node's errors are plain objects of its own: the mark goes on them, their code stays.
        (err as Error & RequestWritten).written = written;
        reject(err);
      };
      request.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // No connection to the proxy at all: the proxy is the one out of reach.
        if (proxy && !connected && !timedOut) return reject(ProxyError.unreachable(proxy, err.code));
        failed(err);
      });
      request.once('response', (response) => {
        // The proxy itself refused the request (absolute form): it went no further.
        if (proxy && response.statusCode === 407) {
          clearTimeout(timer);
          response.resume();
          return reject(ProxyError.refused(proxy, new URL(this.host).host, 407, response.statusMessage));
        }
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_ANSWER_BYTES) response.destroy();
          else chunks.push(chunk);
        });
        response.once('error', () => undefined);
        response.once('close', () => {
          clearTimeout(timer);
          if (timedOut) return failed(new TimeoutError('no answer in time'));
          // Cut off (a connection lost mid-answer, or too long): the answer is not JSON.
          const complete = response.complete && length <= MAX_ANSWER_BYTES;
          let json: unknown;
          if (complete) {
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              json = undefined;
            }
          }
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers: response.headers, json });
        });
      });
      request.end(body);
    });
  }

  /** Closes the idle connections (a redeploy makes new clients). */
  close(): void {
    this.agent.destroy();
  }
}
