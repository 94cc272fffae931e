/**
 * A TCP proxy between the code under test and a real redis-server (test/support/redisServer.ts), on
 * 127.0.0.1, that can make Redis slow for real: what the server sends back is held back a while
 * (Redis runs each command as it comes, and its answer reaches the client late, as behind a loaded
 * server or a congested link), or every connection is cut. The client's bytes go through at once.
 * Each connection keeps its bytes in order, however the delay changes.
 */
import net from 'node:net';

export interface RedisProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** redis://[:password@]127.0.0.1:<the proxy's port>/<db>: what the code under test is given. */
  url(password?: string, db?: number): string;
  /** From now on, holds every answer back `ms` (0: at once again). Answers already held keep their time. */
  delay(ms: number): void;
  /** Holds every answer back `ms` for the next `durationMs`, then passes them at once again. */
  slowFor(ms: number, durationMs: number): void;
  /** Destroys every open connection, both ways (each side sees its connection dropped). */
  cut(): void;
  /** Connections open now. */
  readonly connections: number;
  /** Chunks of answers held back now, on every connection: 0 once every late answer has been passed on. */
  readonly held: number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

interface Held {
  chunk: Buffer;
  at: number;
}

export async function startRedisProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RedisProxy> {
  let delayMs = 0;
  let slowTimer: NodeJS.Timeout | undefined;
  const open = new Set<{ destroy(): void; held: Held[] }>();

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const held: Held[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pair = {
      held,
      destroy() {
        clearTimeout(timer);
        held.length = 0;
        client.destroy();
        upstream.destroy();
        open.delete(pair);
      },
    };
    open.add(pair);
    /** Passes on, in order, what is due; waits for the first that is not. */
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (held.length > 0 && held[0].at <= now) client.write(held.shift()!.chunk);
      if (held.length > 0) timer = setTimeout(flush, held[0].at - now);
    };
    upstream.on('data', (chunk: Buffer) => {
      held.push({ chunk, at: Date.now() + delayMs });
      if (!timer) flush();
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    // Either side gone: the other goes too (a held answer is lost, as with a dropped connection).
    for (const socket of [client, upstream]) {
      socket.on('error', () => pair.destroy());
      socket.on('close', () => pair.destroy());
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (password, db = 0) => `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}/${db}`,
    delay(ms) {
      clearTimeout(slowTimer);
      delayMs = ms;
    },
    slowFor(ms, durationMs) {
      clearTimeout(slowTimer);
      delayMs = ms;
      slowTimer = setTimeout(() => (delayMs = 0), durationMs);
    },
    cut() {
      for (const pair of [...open]) pair.destroy();
    },
    get connections() {
      return open.size;
    },
    get held() {
      return [...open].reduce((sum, pair) => sum + pair.held.length, 0);
    },
    async close() {
      clearTimeout(slowTimer);
      for (const pair of [...open]) pair.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
