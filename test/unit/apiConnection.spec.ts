/** The connection to a Vonage API host: kept open between requests, and every way a request can fail. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { until } from '../support/waitFor';
import should from 'should';
import { ApiConnection, TimeoutError } from '../../src/vonage/apiConnection';
import { transportFailure } from '../../src/vonage/client';

describe('ApiConnection', () => {
  let server: http.Server;
  let host: string;
  const connections: unknown[] = [];
  let answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => answer(req, res, body));
    });
    server.on('connection', (socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => (connections.length = 0));

  it('sends JSON with its length, reads the JSON answer, and keeps one connection open for the next requests', async () => {
    const seen: Array<{ method?: string; url?: string; type?: string; length?: string; body: string }> = [];
    answer = (req, res, body) => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], length: req.headers['content-length'], body });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":"1"}');
    };
    const connection = new ApiConnection(host, 5000);
    for (let i = 0; i < 3; i += 1) {
      const got = await connection.request('POST', '/sms/json', { 'Content-Type': 'application/json' }, '{"text":"héllo"}');
      should(got).have.properties({ status: 200, json: { ok: '1' } });
    }
    should(await connection.request('GET', '/account/get-balance', {})).have.properties({ status: 200 });
    should(seen[0]).eql({ method: 'POST', url: '/sms/json', type: 'application/json', length: '17', body: '{"text":"héllo"}' });
    should(seen[3]).have.properties({ method: 'GET', url: '/account/get-balance', length: undefined });
    should(connections).have.length(1);
    connection.close();
  });

  it('answers an HTTP error with its status and no JSON when the body is not JSON', async () => {
    answer = (_req, res) => res.writeHead(503, 'Busy', { 'Content-Type': 'text/html' }).end('<html>busy</html>');
    const connection = new ApiConnection(host, 5000);
    should(await connection.request('POST', '/sms/json', {}, '{}')).have.properties({ status: 503, statusText: 'Busy', json: undefined });
    connection.close();
  });

  it('does not read an answer of more than a megabyte, nor take a cut-off one for JSON', async () => {
    answer = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"a":"${'x'.repeat(1_100_000)}"}`);
    const connection = new ApiConnection(host, 5000);
    should(await connection.request('POST', '/sms/json', {}, '{}')).have.properties({ status: 200, json: undefined });
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      // Cut off once the start of the body has left.
      res.write('{"messages":[', () => res.socket?.destroy());
    };
    should(await connection.request('POST', '/sms/json', {}, '{}')).have.properties({ status: 200, json: undefined });
    connection.close();
  });

  it('fails with a TimeoutError when no answer comes in time, before or during the body', async () => {
    const connection = new ApiConnection(host, 150);
    answer = () => undefined;
    await should(connection.request('POST', '/sms/json', {}, '{}')).be.rejectedWith(TimeoutError);
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{');
    };
    await should(connection.request('POST', '/sms/json', {}, '{}')).be.rejectedWith(TimeoutError);
    connection.close();
  });

  it('opens at most 50 connections; a request that waits for one in vain fails as never sent', async () => {
    answer = () => undefined; // never answers
    const connection = new ApiConnection(host, 2000);
    const first = Array.from({ length: 50 }, () => connection.request('POST', '/sms/json', {}, '{}').catch((err: Error) => err));
    await until(() => connections.length >= 50, { what: () => `50 connections (${connections.length} so far)` });
    should(connections).have.length(50);
    const waiting = await connection.request('POST', '/sms/json', {}, '{}', 200).catch((err: Error) => err);
    should(connections).have.length(50);
    should(waiting).have.properties({ name: 'ConnectTimeoutError', code: 'CONNECT_TIMEOUT' });
    should(transportFailure(waiting, host, 200, '447700900123')).have.properties({ kind: 'connection', mayHaveBeenSent: false });
    // Those written and never answered may have been sent.
    should(transportFailure(await first[0], host, 2000, '447700900123')).have.properties({ kind: 'timeout', mayHaveBeenSent: true });
    await Promise.all(first);
    connection.close();
  });

  it("fails with Node's error and its code when the connection is refused or dropped", async () => {
    const refused = new ApiConnection('http://127.0.0.1:1', 5000);
    await should(refused.request('POST', '/sms/json', {}, '{}')).be.rejectedWith({ code: 'ECONNREFUSED' });
    answer = (req) => req.socket.destroy();
    const dropped = new ApiConnection(host, 5000);
    await should(dropped.request('POST', '/sms/json', {}, '{}')).be.rejectedWith({ code: 'ECONNRESET' });
    dropped.close();
  });
});
