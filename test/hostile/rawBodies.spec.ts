/**
 * Webhook bodies read as bytes on every Node-RED layout, in a real Node-RED process: a signed
 * Messages API body is checked against the bytes Vonage signed (not a re-serialisation by the admin
 * API's body parser), and a compressed body is refused (415) before anything inflates it. `http in`
 * on another path still gets its body parsed (and inflated) as before.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import should from 'should';
import { signMessagesWebhook } from '../../dev/loopback/webhooks';
import { nodeRedVersion, type FlowNode } from '../support/nodeRed';
import { RealNodeRed } from '../support/realNodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'rawbody1';
const SIGNATURE_SECRET = 'raw-body-signature-secret-41';
/** Node-RED's heap, capped: 100 bodies inflated to 4.9 MB each would end the process. */
const HEAP_MIB = 256;
/** How far Node-RED's heap may rise while it answers the 100 compressed bodies. */
const MAX_HEAP_RISE_MIB = 64;

/** Node-RED's own body parsers swapped for body-parser 2, Express 5's (bodyParser2.js): the admin API's on a shared root among them. */
const BODY_PARSER_2 = ['--require', path.join(__dirname, '..', 'support', 'bodyParser2.js')];

const LAYOUTS: Array<[string, Record<string, unknown>, string, string[]?]> = [
  ['admin API and HTTP nodes on one root', {}, ''],
  ['admin API on /admin, HTTP nodes on /', { httpAdminRoot: '/admin' }, ''],
  ['admin API on /, HTTP nodes on /hooks', { httpNodeRoot: '/hooks' }, '/hooks'],
  ["admin API and HTTP nodes on one root, Node-RED's parsers body-parser 2 (Express 5's)", {}, '', BODY_PARSER_2],
];

function flows(): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'raw bodies' },
    { id: 'signer', type: 'nexmobasic', name: 'JWT signer' },
    { id: 'jwt-in', z: 'tab', type: 'vonage-sms-in', url: '/sms-jwt', creds: 'signer', x: 100, y: 100, wires: [['jwt-debug']] },
    { id: 'jwt-debug', z: 'tab', type: 'debug', active: true, tosidebar: false, console: true, complete: 'payload.text', x: 300, y: 100, wires: [] },
    { id: 'plain-in', z: 'tab', type: 'vonage-sms-in', url: '/sms-in', x: 100, y: 200, wires: [[]] },
    // Another path: its body is still parsed (and inflated) by Node-RED, as always.
    { id: 'other-in', z: 'tab', type: 'http in', url: '/other', method: 'post', x: 100, y: 300, wires: [['other-fn']] },
    { id: 'other-fn', z: 'tab', type: 'function', func: 'msg.payload = { type: typeof msg.payload, a: msg.payload && msg.payload.a };\nreturn msg;', outputs: 1, x: 300, y: 300, wires: [['other-out']] },
    { id: 'other-out', z: 'tab', type: 'http response', statusCode: '', headers: {}, x: 500, y: 300, wires: [] },
  ];
}

/** An inbound SMS as Vonage might write it: spaces, `\u00e9` and `\/` escapes, its own key order. */
function unusualBody(text: string): string {
  return (
    `{ "text" : "${text} caf\\u00e9 \\/ ok",  "channel" : "sms",\n  "to":"447700900000", "from" : "447700900031",` +
    ` "message_uuid":"${crypto.randomUUID()}", "timestamp":"${new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')}",` +
    ` "usage":{"currency":"EUR","price":"0.0333"}, "sms" : {"keyword":"SIGNED","num_messages":"1"}, "origin":{"network_code":"23410"} }`
  );
}

for (const [layout, settings, root, preload = []] of LAYOUTS) {
  describe(`webhook bodies read as sent, ${layout} (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(120_000);
    let red: RealNodeRed;

    before(async () => {
      red = await RealNodeRed.start({
        flows: flows(),
        credentials: { signer: { apikey: API_KEY, apisecret: 'raw-body-api-secret-7', sigsecret: SIGNATURE_SECRET } },
        settings,
        nodeOptions: [`--max-old-space-size=${HEAP_MIB}`, ...preload],
      });
    });

    after(async () => {
      await red?.stop();
    });

    it('takes a signed Messages API body written with spaces, escapes and another key order, and refuses it with one byte altered', async () => {
      const post = async (body: string, authorization: string) =>
        (await fetch(`${red.base}${root}/sms-jwt`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: authorization }, body })).status;
      const text = `signed-${crypto.randomUUID().slice(0, 8)}`;
      const body = unusualBody(text);
      // The JSON as a parser re-writes it is other bytes: what used to be hashed.
      should(JSON.stringify(JSON.parse(body))).not.equal(body);
      should(await post(body, signMessagesWebhook(body, { secret: SIGNATURE_SECRET, apiKey: API_KEY }))).equal(200);
      await until(() => red.log.includes(`${text} café / ok`), { what: "the signed SMS in Node-RED's log" });
      should(red.log).containEql(`${text} café / ok`);

      const altered = unusualBody(`altered-${text}`);
      const authorization = signMessagesWebhook(altered, { secret: SIGNATURE_SECRET, apiKey: API_KEY });
      should(await post(altered.replace('caf\\u00e9', 'caf\\u00e8'), authorization)).equal(401);
      should(await post(altered, authorization)).equal(200);
    });

    it('refuses a compressed body with 415, and 100 gzip bodies of 4.9 MB at once leave Node-RED up with its heap within 64 MiB', async () => {
      const inflated = JSON.stringify({ msisdn: '447700900001', to: '447700900000', messageId: 'AB12', text: 'x', pad: 'x'.repeat(4_900_000) });
      const gzip = zlib.gzipSync(inflated, { level: 9 });
      should(gzip.length).be.below(6_000);
      const post = async (encoding: string, body: Buffer) =>
        (await fetch(`${red.base}${root}/sms-in`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body: new Uint8Array(body) })).status;
      should(await post('deflate', zlib.deflateSync(inflated))).equal(415);
      should(await post('br', zlib.brotliCompressSync('{}'))).equal(415);

      const before = await red.memoryUsage();
      const answers = await Promise.all(Array.from({ length: 100 }, () => post('gzip', gzip).catch((err: Error) => err.message)));
      const after = await red.memoryUsage();
      const rise = (after.peakHeapUsed - before.heapUsed) / 2 ** 20;
      console.log(`      heap: ${(before.heapUsed / 2 ** 20).toFixed(1)} MiB before, at most ${(after.peakHeapUsed / 2 ** 20).toFixed(1)} MiB while answering (+${rise.toFixed(1)} MiB)`);
      should(red.alive).be.true();
      should(answers).matchEach((status: unknown) => should([413, 415]).containEql(status));
      should(rise).be.below(MAX_HEAP_RISE_MIB);
      // Uncompressed, the same SMS in still answers.
      const plain = JSON.stringify({ msisdn: '447700900001', to: '447700900000', messageId: 'AB13', text: 'x', 'message-timestamp': '2026-01-01 10:00:00' });
      should((await fetch(`${red.base}${root}/sms-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: plain })).status).equal(200);
    });

    it('leaves http in on another path as it was: its JSON body parsed, a gzip one inflated', async () => {
      const post = async (headers: Record<string, string>, body: string | Buffer) =>
        (await fetch(`${red.base}${root}/other`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) })).json();
      should(await post({}, '{"a": "b"}')).eql({ type: 'object', a: 'b' });
      should(await post({ 'Content-Encoding': 'gzip' }, zlib.gzipSync('{"a": "gz"}'))).eql({ type: 'object', a: 'gz' });
    });
  });
}

describe(`webhook bodies with httpNodeRoot false (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(60_000);
  let red: RealNodeRed;
  before(async () => {
    red = await RealNodeRed.start({ flows: flows(), credentials: {}, settings: { httpNodeRoot: false } });
  });
  after(async () => {
    await red?.stop();
  });

  it('marks nothing: no webhook is served, and Node-RED answers as it always did', async () => {
    // Only the admin API (on /) is served: it answers the webhook's path with its 404, not the webhook's 415.
    const status = (await fetch(`${red.base}/sms-in`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: new Uint8Array(zlib.gzipSync('{"a":1}')) })).status;
    should(status).equal(404);
    should((await fetch(`${red.base}/settings`)).status).equal(200);
    should(red.alive).be.true();
  });
});
