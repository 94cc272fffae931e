/**
 * The table of hostile webhook requests in docs/webhooks-and-security.md, row by row, against a real Node-RED process with
 * the tutorial's flows and the loopback Vonage API behind Send SMS, on both of Node-RED's layouts:
 * admin API and HTTP nodes on one root (the default), and on two. After every row the process
 * lives; every request was answered, never with HTML; only the control rows sent an SMS. After the
 * table, memory has stayed bounded and Node-RED stops cleanly.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { messagesInbound } from '../../dev/loopback/webhooks';
import { nodeRedVersion, type FlowNode } from '../support/nodeRed';
import { RealNodeRed } from '../support/realNodeRed';
import { docTable, jsonCell } from '../support/docTable';
import { until } from '../support/waitFor';

const ROOT = path.join(__dirname, '..', '..');
const API_KEY = 'hostile1';
const SECRET = 'hostile-api-secret-93';
const SIGNATURE_SECRET = 'hostile-signature-secret-17';
/** Node-RED's heap, capped so that memory without bound would end the process during the table. */
const HEAP_MIB = 256;
/** What the table may leave behind (heap and buffers, after a full collection), in all: far less than the 450 MB it sends. */
const MAX_GROWTH_MIB = 32;
/** Requests of a row with `times` that are under way at once. */
const CONCURRENCY = 8;

interface Row {
  number: number;
  name: string;
  request: RequestSpec;
  status: number;
  sent: number;
}

interface RequestSpec {
  path: string;
  sms?: Record<string, unknown>;
  receipt?: Record<string, unknown>;
  /** A Messages API inbound SMS / status webhook (JSON), with the row's changes. */
  messages?: Record<string, unknown>;
  messagesStatus?: Record<string, unknown>;
  as?: 'get' | 'form' | 'json';
  body?: string;
  type?: string;
  extraQuery?: string;
  times?: number;
  chunked?: boolean;
}

function readTable(): Row[] {
  return docTable('docs/webhooks-and-security.md', 'hostile-webhook-table').map((cells) => ({ number: Number(cells[0]), name: cells[1], request: jsonCell(cells[2]), status: Number(cells[3]), sent: Number(cells[4]) }));
}

const timestamp = () => new Date().toISOString().slice(0, 19).replace('T', ' ');
let sequence = 0;
const freshId = () => `F${Date.now().toString(16).toUpperCase()}${(sequence += 1).toString(16).toUpperCase()}`;

/** The row's values made concrete for request number n: `$repeat`, `$numbers`, `$list`, `$extra`, `{n}`. */
function expand(value: unknown, n: number): unknown {
  if (typeof value === 'string') return value.replace(/\{n\}/g, String(n));
  if (Array.isArray(value)) return value.map((v) => expand(v, n));
  if (value && typeof value === 'object') {
    const { $repeat, $numbers, $list } = value as { $repeat?: [string, number, string?]; $numbers?: number; $list?: [number, unknown] };
    if ($list) return Array.from({ length: $list[0] }, () => expand($list[1], n));
    if ($repeat) return $repeat[0].repeat($repeat[1]) + String(expand($repeat[2] ?? '', n));
    if ($numbers) return Array.from({ length: $numbers }, (_, i) => String(447700900000 + i + 1)).join(',');
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, n)]));
  }
  return value;
}

/** A valid inbound SMS or receipt, with the row's changes: null removes a field, `$extra: [count, length]` adds fields. */
function fields(base: Record<string, unknown>, changes: Record<string, unknown>, n: number): Record<string, unknown> {
  // A fresh id for each request: a Messages API body brings its own message_uuid.
  const out: Record<string, unknown> = 'message_uuid' in base ? { ...base } : { ...base, messageId: freshId() };
  for (const [key, value] of Object.entries(expand(changes, n) as Record<string, unknown>)) {
    if (key === '$extra') {
      const [count, length] = value as [number, number];
      for (let i = 0; i < count; i += 1) out[`extra${i}`] = 'e'.repeat(length);
    } else if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

const MESSAGES_SMS = () => ({
  channel: 'sms',
  message_uuid: crypto.randomUUID(),
  to: '447700900000',
  from: '447700900001',
  timestamp: new Date().toISOString(),
  text: 'Hello',
  sms: { num_messages: '1', keyword: 'HELLO' },
  usage: { price: '0.0333', currency: 'EUR' },
  origin: { network_code: '23410' },
});
const MESSAGES_STATUS = () => ({
  message_uuid: crypto.randomUUID(),
  to: '447700900123',
  from: 'AcmeInc',
  timestamp: new Date().toISOString(),
  status: 'delivered',
  channel: 'sms',
  usage: { currency: 'EUR', price: '0.0333' },
  sms: { count_total: '1' },
});
const SMS = () => ({ msisdn: '447700900001', to: '447700900000', text: 'Hello', type: 'text', keyword: 'HELLO', 'api-key': API_KEY, 'message-timestamp': timestamp() });
const RECEIPT = () => ({
  msisdn: '447700900123',
  to: 'AcmeInc',
  'network-code': '23410',
  price: '0.03330000',
  status: 'delivered',
  scts: '2611251200',
  'err-code': '0',
  'api-key': API_KEY,
  'message-timestamp': timestamp(),
});

interface Answer {
  status: number;
  type: string;
}

async function request(base: string, spec: RequestSpec, n: number): Promise<Answer> {
  const url = new URL(`${base}${spec.path}`);
  let init: RequestInit & { duplex?: 'half' } = { method: 'GET' };
  const params = spec.sms
    ? fields(SMS(), spec.sms, n)
    : spec.receipt
      ? fields(RECEIPT(), spec.receipt, n)
      : spec.messages
        ? fields(MESSAGES_SMS(), spec.messages, n)
        : spec.messagesStatus
          ? fields(MESSAGES_STATUS(), spec.messagesStatus, n)
          : undefined;
  // The Messages API posts JSON, always.
  const as = spec.messages || spec.messagesStatus ? 'json' : (spec.as ?? 'get');
  if (params && as === 'get') for (const [k, v] of Object.entries(params)) url.searchParams.append(k, String(v));
  if (spec.extraQuery) url.search += `&${spec.extraQuery}`;
  let body: string | undefined = spec.body;
  let type = spec.type;
  if (params && as === 'form') [body, type] = [new URLSearchParams(params as Record<string, string>).toString(), 'application/x-www-form-urlencoded'];
  if (params && as === 'json') [body, type] = [JSON.stringify(params), 'application/json'];
  if (body !== undefined) {
    init = { method: 'POST', headers: { 'Content-Type': type ?? 'text/plain' }, body };
    if (spec.chunked) {
      const bytes = Buffer.from(body);
      // A stream has no known length: fetch sends it chunked, with no Content-Length.
      init.body = new ReadableStream({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 16_384) controller.enqueue(bytes.subarray(at, at + 16_384));
          controller.close();
        },
      });
      init.duplex = 'half';
    }
  }
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return { status: response.status, type: response.headers.get('content-type') ?? '' };
}

async function requests(base: string, spec: RequestSpec): Promise<Answer[]> {
  const times = spec.times ?? 1;
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, times) }, async () => {
      while (next < times) answers.push(await request(base, spec, (next += 1)));
    }),
  );
  return answers;
}

/** The tutorial's flows from examples/, with an SMS in that only logs and one whose signer is missing. */
function hostileFlows(restHost: string): { flows: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const flows: FlowNode[] = [];
  const credentials: Record<string, Record<string, string>> = {};
  for (const name of ['Reply to an SMS', 'Auto-reply with SMS in', 'Track delivery receipts']) {
    const tab = `tab-${flows.length}`;
    flows.push({ id: tab, type: 'tab', label: name });
    for (const node of JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', `${name}.json`), 'utf8')) as FlowNode[]) {
      if (node.type === 'nexmobasic') {
        flows.push({ ...node, resthost: restHost });
        credentials[node.id] = { apikey: API_KEY, apisecret: SECRET };
      } else flows.push({ ...node, z: tab, ...(node.type === 'vonage-sms-in' ? { url: '/sms-in' } : {}) });
    }
  }
  flows.push(
    { id: 'tab-extra', type: 'tab', label: 'SMS in, no reply' },
    { id: 'log-in', z: 'tab-extra', type: 'vonage-sms-in', url: '/sms-log', wires: [['log-debug']] },
    { id: 'log-debug', z: 'tab-extra', type: 'debug', active: true, tosidebar: true, console: false, complete: 'payload', wires: [] },
    { id: 'signed-in', z: 'tab-extra', type: 'vonage-sms-in', url: '/sms-signed', creds: 'no-such-node', wires: [['log-debug']] },
    // SMS receipt speaks from its own message catalogue too (it once logged SMS in's keys untranslated).
    { id: 'signed-receipt', z: 'tab-extra', type: 'vonage-sms-receipt', url: '/receipt-signed', creds: 'no-such-node', wires: [['log-debug']] },
    // Signed by an account with a signature secret, answered with a reply: which signed webhooks get through.
    { id: 'signer', type: 'nexmobasic', name: 'JWT signer', resthost: restHost },
    // (With x and y: Node-RED takes a node of a tab without them for a config node of that tab.)
    { id: 'jwt-in', z: 'tab-extra', type: 'vonage-sms-in', url: '/sms-jwt', creds: 'signer', x: 100, y: 100, wires: [['jwt-reply']] },
    { id: 'jwt-reply', z: 'tab-extra', type: 'sendsms', creds: 'signer', to: '{{msg.payload.msisdn}}', fr: '{{msg.payload.to}}', text: 'Signed: {{msg.payload.text}}', x: 300, y: 100, wires: [[]] },
  );
  credentials.signer = { apikey: API_KEY, apisecret: SECRET, sigsecret: SIGNATURE_SECRET };
  return { flows, credentials };
}

const LAYOUTS: Array<[string, Record<string, unknown>]> = [
  ['admin API and HTTP nodes on one root', {}],
  ['admin API on /admin, HTTP nodes on /', { httpAdminRoot: '/admin' }],
];

for (const [layout, settings] of LAYOUTS) {
  describe(`hostile webhook requests, ${layout} (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(120_000);
    const rows = readTable();
    const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: SECRET, balance: 100 }]);
    let red: RealNodeRed;
    let startMiB = 0;
    let startRssMiB = 0;
    const smsRequests = () => api.requests.filter((r) => r.path === '/sms/json').length;
    let sentinel = 0;

    /**
     * One valid SMS to each flow that sends SMS in the table (the tutorial's reply on /sms, the auto-reply
     * on /sms-in), awaited as their replies at the API: each flow passes msgs on and queues its SMS in the
     * order they came, so an SMS the row's requests caused would have reached the API first. Resolves with
     * how many SMS the sentinels sent.
     */
    async function sentinels(): Promise<number> {
      const numbers: string[] = [];
      for (const path of ['/sms', '/sms-in']) {
        const msisdn = String(447700950000 + (sentinel += 1));
        numbers.push(msisdn);
        should((await request(red.base, { path, sms: { msisdn, text: 'sentinel' } }, 0)).status).equal(200);
      }
      await until(() => numbers.every((to) => api.requests.some((r) => r.path === '/sms/json' && r.params.to === to)), { what: 'the replies to the sentinel SMS' });
      return numbers.length;
    }

    before(async () => {
      const restHost = await api.listen();
      // Each part of a long SMS, and each reply, at the loopback's full speed: the rate limit is not under test.
      api.account(API_KEY)!.ratePerSecond = 1000;
      red = await RealNodeRed.start({ ...hostileFlows(restHost), settings, nodeOptions: [`--max-old-space-size=${HEAP_MIB}`] });
      startMiB = await red.retainedMiB();
      startRssMiB = red.rssMiB();
    });

    after(async () => {
      await red?.stop();
      await api.close();
    });

    it('has at least 35 rows, numbered in order', () => {
      should(rows.length).be.aboveOrEqual(35);
      should(rows.map((r) => r.number)).eql(rows.map((_, i) => i + 1));
    });

    for (const row of rows) {
      it(`${row.number}. ${row.name}: ${row.status}, ${row.sent} SMS sent`, async () => {
        const before = smsRequests();
        const answers = await requests(red.base, row.request);
        should(answers.map((a) => a.status)).matchEach(row.status);
        should(answers.map((a) => a.type)).matchEach((type: string) => should(type).not.match(/html/));
        // The SMS a control row causes; for any other, SMS that come after any it might have caused.
        if (row.sent) await until(() => smsRequests() - before >= row.sent, { what: () => `${row.sent} SMS at the API (${smsRequests() - before} so far)` });
        const afterwards = row.sent ? 0 : await sentinels();
        should(smsRequests() - before - afterwards).equal(row.sent);
        should(red.alive).be.true();
      });
    }

    it('takes a Messages API webhook signed over the body as sent (on this layout too), and refuses it altered or unsigned', async () => {
      const post = async (webhook: { body: string; headers: Record<string, string> }) => (await fetch(`${red.base}/sms-jwt`, { method: 'POST', headers: webhook.headers, body: webhook.body })).status;
      const before = smsRequests();
      should(await post(messagesInbound({ from: '447700900031', to: '447700900000', text: 'signed' }, { secret: SIGNATURE_SECRET, apiKey: API_KEY }))).equal(200);
      for (const webhook of [
        messagesInbound({ from: '447700900032', to: '447700900000', text: 'unsigned' }),
        messagesInbound({ from: '447700900033', to: '447700900000', text: 'altered' }, { secret: SIGNATURE_SECRET, apiKey: API_KEY, hashOf: '{}' }),
      ]) {
        should(await post(webhook)).equal(401);
      }
      // Then one more signed SMS: its reply comes after any the refused ones might have caused.
      should(await post(messagesInbound({ from: '447700900034', to: '447700900000', text: 'sentinel' }, { secret: SIGNATURE_SECRET, apiKey: API_KEY }))).equal(200);
      const since = () => api.requests.filter((r) => r.path === '/sms/json').slice(before);
      await until(() => since().some((r) => r.params.text === 'Signed: sentinel'), { what: 'the reply to the sentinel SMS' });
      const caused = since().filter((r) => r.params.text !== 'Signed: sentinel');
      should(caused.slice(-1)[0].params).have.properties({ to: '447700900031', text: 'Signed: signed' });
      should(caused).have.length(1);
    });

    it('logs refused requests once a minute with the count, not once each: 500 unsigned requests to a signed SMS in add at most one line', async () => {
      const lines = () => red.log.split('\n').filter((line) => /refused an unsigned request/.test(line)).length;
      const before = lines();
      const answers = await requests(red.base, { path: '/sms-jwt', sms: {}, as: 'json', times: 500 });
      should(answers).matchEach((a: Answer) => should(a.status).equal(401));
      // Then a line logged on purpose (Send SMS of the tutorial's reply refuses a number that is not one):
      // the log comes through a pipe, in order, so once that line is in, every line before it is.
      const marker = `sentinel-${crypto.randomUUID().slice(0, 8)}`;
      should((await request(red.base, { path: '/sms', sms: { msisdn: marker } }, 0)).status).equal(200);
      await until(() => red.log.includes(marker), { what: 'the line logged on purpose' });
      should(lines() - before).be.belowOrEqual(1);
      should(red.alive).be.true();
    });

    it(`holds memory bounded: less than ${MAX_GROWTH_MIB} MiB more retained after the table, with its heap capped at ${HEAP_MIB} MiB`, async () => {
      should(red.alive).be.true();
      const grown = (await red.retainedMiB()) - startMiB;
      console.log(
        `      retained (heap + buffers after a full GC): ${startMiB.toFixed(1)} MiB at start, ${(startMiB + grown).toFixed(1)} MiB after the table;` +
          ` resident: ${startRssMiB.toFixed(0)} → ${red.rssMiB().toFixed(0)} MiB`,
      );
      should(grown).be.below(MAX_GROWTH_MIB);
    });

    it('stops cleanly, handing on what waits, with no line in its log over 10 kB', async () => {
      should(await red.stop()).equal(0);
      const longest = Math.max(...red.log.split('\n').map((line) => line.length));
      should(longest).be.below(10_000);
      should(red.log).not.containEql(SECRET);
      // Every line in words: no message key of the package's left untranslated.
      should(red.log).match(/\[vonage-sms-receipt:signed-receipt\] every request is refused with 503/);
      should(red.log).not.match(/(nexmobasic|sendsms|vonage-sms-in|vonage-sms-receipt|vonage-optout)\.(warn|status|errors|log)\./);
    });
  });
}
