/**
 * What flows in real Node-RED processes report, collected over real HTTP: their core `http request` node
 * POSTs one JSON event a msg to `url`, kept in `events` in the order they came.
 */
import http from 'node:http';

export interface Collector<T> {
  events: T[];
  /** http://127.0.0.1:PORT/events, once listening. */
  url: string;
  close(): void;
}

export async function startCollector<T>(): Promise<Collector<T>> {
  const events: T[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      events.push(JSON.parse(body) as T);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { events, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`, close: () => server.close() };
}
