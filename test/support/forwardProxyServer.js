/**
 * A small forwarding HTTP proxy for the tests, run as its own process (`node forwardProxyServer.js`) by
 * forwardProxy.ts: CONNECT tunnels (for HTTPS) and absolute-form requests (`POST http://host:port/path`,
 * kept alive both ways). FORWARD_PROXY_CONFIG (JSON) sets `user` and `password` (then a request without
 * them, or with others, gets 407 and Proxy-Authenticate) and `refuse` (a status, 502: every CONNECT and
 * every request refused with it once past the authentication).
 *
 * It carries nothing off this machine: a target other than 127.0.0.1 or localhost is refused with 403.
 *
 * What it sees goes to stdout, one JSON object a line: `{kind: 'listening', port}` first, then for each
 * CONNECT or request `{kind: 'connect' | 'request', method, target, auth, connection, status}`, where
 * `auth` is 'none' (no user asked), 'ok', 'missing' or 'wrong', and `connection` numbers the client's TCP
 * connection to the proxy. A line `sync` on stdin is answered `{kind: 'sync'}`: everything before it is out.
 */
const http = require('node:http');
const net = require('node:net');

const config = JSON.parse(process.env.FORWARD_PROXY_CONFIG || '{}');
const LOCAL = new Set(['127.0.0.1', 'localhost']);
const upstreamAgent = new http.Agent({ keepAlive: true });
let connections = 0;

function record(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function authOf(req) {
  if (!config.user) return 'none';
  const given = req.headers['proxy-authorization'];
  if (!given) return 'missing';
  return given === `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}` ? 'ok' : 'wrong';
}

/** The status to refuse a request with, before it goes anywhere, or 0 to carry it. */
function refusal(auth, host) {
  if (auth === 'missing' || auth === 'wrong') return 407;
  if (config.refuse) return config.refuse;
  return LOCAL.has(host) ? 0 : 403;
}

const REASONS = { 403: 'Forbidden', 407: 'Proxy Authentication Required', 502: 'Bad Gateway' };
const HOP_BY_HOP = ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade'];

const server = http.createServer((req, res) => {
  const auth = authOf(req);
  const seen = { kind: 'request', method: req.method, target: req.url, auth, connection: req.socket.proxyConnection };
  let target;
  try {
    target = new URL(req.url);
  } catch {
    target = undefined;
  }
  if (!target || target.protocol !== 'http:') {
    record({ ...seen, status: 400 });
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return res.end('absolute-form http:// requests only');
  }
  const refused = refusal(auth, target.hostname);
  if (refused) {
    record({ ...seen, status: refused });
    req.resume();
    res.writeHead(refused, { 'Content-Type': 'text/plain', ...(refused === 407 ? { 'Proxy-Authenticate': 'Basic realm="tests"' } : {}) });
    return res.end(REASONS[refused] || 'refused');
  }
  const headers = { ...req.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  const upstream = http.request({ host: target.hostname, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers, agent: upstreamAgent }, (answer) => {
    record({ ...seen, status: answer.statusCode });
    const back = { ...answer.headers };
    for (const name of HOP_BY_HOP) delete back[name];
    res.writeHead(answer.statusCode, back);
    answer.pipe(res);
  });
  upstream.on('error', (err) => {
    record({ ...seen, status: 502, error: err.code });
    if (res.headersSent) return res.destroy();
    res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('Bad Gateway');
  });
  req.pipe(upstream);
});

server.on('connection', (socket) => {
  socket.proxyConnection = ++connections;
});

server.on('connect', (req, client, head) => {
  const auth = authOf(req);
  const seen = { kind: 'connect', method: 'CONNECT', target: req.url, auth, connection: client.proxyConnection };
  const at = req.url.lastIndexOf(':');
  const host = req.url.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(req.url.slice(at + 1));
  client.on('error', () => undefined);
  const refused = refusal(auth, host);
  if (refused) {
    record({ ...seen, status: refused });
    const challenge = refused === 407 ? 'Proxy-Authenticate: Basic realm="tests"\r\n' : '';
    return client.end(`HTTP/1.1 ${refused} ${REASONS[refused] || 'Refused'}\r\n${challenge}Content-Length: 0\r\n\r\n`);
  }
  const upstream = net.connect(port, host);
  let open = false;
  upstream.once('connect', () => {
    open = true;
    record({ ...seen, status: 200 });
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (open) return client.destroy();
    record({ ...seen, status: 502, error: err.code });
    client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
  });
  client.on('close', () => upstream.destroy());
});

process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  for (const line of text.split('\n')) if (line.trim() === 'sync') record({ kind: 'sync' });
});
// The test process gone (its end of stdin closed): this proxy goes too.
process.stdin.on('end', () => process.exit(0));

server.listen(0, '127.0.0.1', () => record({ kind: 'listening', port: server.address().port }));
