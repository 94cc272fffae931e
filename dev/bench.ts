/**
 * `npm run bench`: what the package costs, measured side by side in one run against the loopback
 * Vonage API on 127.0.0.1, printed as a table and written to BENCHMARKS.md.
 *
 * 1. Send overhead: N SMS through Send SMS in a real Node-RED runtime (no rate limit) vs the raw
 *    @vonage/server-sdk at the same concurrency, rounds interleaved.
 * 2. Rate fidelity: a burst of 10×R at a limit of R against a loopback that enforces R with status 1.
 * 3. Inbound: SMS in vs the tutorial's http in + http response, same runtime, load and concurrency.
 * 4. Memory: heap and RSS growth with 10k, 50k and 100k SMS waiting in the send queue.
 * 5. Load: Node-RED's start with and without the package installed, and the package's own require time.
 * 6. Shared state (Redis, a redis-server started here): two config nodes with the same API key as two
 *    instances (combined rate and throttling), and 1 and 3 again with Redis against in memory.
 * 7. Opt-outs: Send SMS with 100,000 numbers on the account's opt-out list against an empty list, in
 *    memory and in Redis, and what one check of the list costs.
 *
 * `--smoke` runs tiny sizes (the test suite does, so that the bench cannot rot); `--out FILE`
 * writes the report elsewhere; `--only memory,inbound` runs only those measures (for working on one). Run with --expose-gc for the memory figures (npm run bench does).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Vonage } from '@vonage/server-sdk';
import helper from 'node-red-node-test-helper';
import { LoopbackVonageSmsApi } from './loopback/vonageSmsApi';
import { inboundRequests } from './loopback/webhooks';
import { PALETTE_INSTALL_FLAGS } from './paletteInstall';
import { redisServerInstalled, startRedis, type RunningRedis } from './redisServer';
import { OptOutJournal } from '../src/state/optOutFile';

const ROOT = path.join(__dirname, '..');
const SMOKE = process.argv.includes('--smoke');
const OUT = (() => {
  const i = process.argv.indexOf('--out');
  return i >= 0 ? path.resolve(process.argv[i + 1]) : path.join(ROOT, 'BENCHMARKS.md');
})();
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? new Set(process.argv[i + 1].split(',')) : undefined;
})();
const KEY = 'bench001';
const SECRET = 'bench-secret-1';
/** The account whose opt-out list holds OPTED_OUT numbers (measure 7). */
const LISTED_KEY = 'bench002';

/** The Node-RED measured: Node-RED 5 (dev/node-red-5), as npm start runs it, when runBench.js names it. */
const NODE_RED_PACKAGE = process.env.NODE_RED_PACKAGE || 'node-red';
helper.init(require.resolve(NODE_RED_PACKAGE));
// A user directory, as a real Node-RED has: the opt-out lists of accounts without a Shared state live there.
const USER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-'));
process.once('exit', () => fs.rmSync(USER_DIR, { recursive: true, force: true }));
helper.settings({ userDir: USER_DIR });
const nodeRedDir = path.dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`));
const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [nodeRedDir] })), 'core');
const NODE_FILES = ['nexmobasic', 'sendsms', 'vonage-sms-in', 'vonage-sms-receipt', 'vonage-optout', 'vonage-sms-usage'];
const packageNodes = NODE_FILES.map((n) => require(path.join(ROOT, 'nodes', `${n}.js`)));
const httpNodes = require(path.join(coreDir, 'network', '21-httpin.js'));

const api = new LoopbackVonageSmsApi([
  { apiKey: KEY, apiSecret: SECRET, balance: 1e9 },
  { apiKey: LISTED_KEY, apiSecret: SECRET, balance: 1e9 },
]);
let restHost = '';
/** The redis-server of the shared-state measures, when this machine has one. */
let redis: RunningRedis | undefined;
/** A rate that never binds, so that each queue still does its limiting work (in memory, or in Redis). */
const UNBINDING_RATE = 100_000;

type Row = { measure: string; ours: string; reference: string; ratio: string; target: string; met: string };
const rows: Row[] = [];
const notes: string[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const fixed = (n: number, d = 0) => n.toFixed(d);
/**
 * The test helper spies on every Node method (send, status, log…), keeps every call's arguments and
 * tells of each call on the next tick: what users run does none of it. The bench loads its flows with
 * the helper and then takes the spies off again, so that only Node-RED and the package are measured.
 */
async function loadFlow(...args: Parameters<typeof helper.load>): Promise<void> {
  await helper.load(...args);
  const own = helper as unknown as { _sandbox?: { restore(): void }; _logSpy?: { restore(): void } };
  own._logSpy?.restore();
  own._sandbox?.restore();
}
const signed = (n: number, d = 1) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(d)}`;

/**
 * What the loopback saw of a burst sent at a limit: the achieved rate (SMS accepted − 1 over the time
 * from the first arrival to the last), distinct texts, requests and throttled answers. Resets the loopback.
 */
function burstOutcome() {
  const sent = api.sent;
  const arrivals = sent.map((r) => r.at).sort((a, b) => a - b);
  const achieved = (arrivals.length - 1) / ((arrivals[arrivals.length - 1] - arrivals[0]) / 1000);
  const unique = new Set(sent.map((r) => r.params.text)).size;
  const requests = api.requests.filter((r) => r.path === '/sms/json').length;
  const throttled = api.requests.filter((r) => r.outcome === '1').length;
  api.account(KEY)!.ratePerSecond = undefined;
  api.reset();
  return { sent, achieved, unique, requests, throttled };
}

/** N msgs into a Send SMS node at once; resolves with SMS/s, from the first msg in to the last one out. */
function sendThrough(send: string, out: string, n: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let done = 0;
    const started = performance.now();
    const sink = helper.getNode(out);
    const onInput = () => {
      done += 1;
      if (done === n) {
        sink.off('input', onInput);
        resolve(n / ((performance.now() - started) / 1000));
      }
    };
    sink.on('input', onInput);
    for (let i = 0; i < n; i += 1) helper.getNode(send).receive({ payload: i });
  });
}

/** 1. Send SMS vs the raw SDK, N at once each, rounds interleaved. */
async function sendOverhead(): Promise<void> {
  const n = SMOKE ? 40 : 1000;
  const rounds = SMOKE ? 2 : 11;
  const flow = [
    { id: 't', type: 'tab' },
    { id: 'c', type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate: UNBINDING_RATE, queuesize: n + 10, timeout: 30 },
    { id: 's', z: 't', type: 'sendsms', creds: 'c', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [['o']] },
    { id: 'o', z: 't', type: 'helper' },
    // The same on the Messages API.
    { id: 'cm', type: 'nexmobasic', perrecipient: 0, api: 'messages', resthost: restHost, rate: UNBINDING_RATE, queuesize: n + 10, timeout: 30 },
    { id: 'sm', z: 't', type: 'sendsms', creds: 'cm', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [['om']] },
    { id: 'om', z: 't', type: 'helper' },
    // The same with every spend limit on (countries, both daily budgets, the per-recipient cap), none binding.
    { id: 'cg', type: 'nexmobasic', resthost: restHost, rate: UNBINDING_RATE, queuesize: n + 10, timeout: 30, countries: 'GB, DE', dailyparts: 1e9, dailyspend: 1e9, perrecipient: 1e9 },
    { id: 'sg', z: 't', type: 'sendsms', creds: 'cg', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [['og']] },
    { id: 'og', z: 't', type: 'helper' },
    // The same with the account's state in Redis.
    { id: 'cr', type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate: UNBINDING_RATE, queuesize: n + 10, timeout: 30 },
    { id: 'sr', z: 't', type: 'sendsms', creds: 'cr', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [['or']] },
    { id: 'or', z: 't', type: 'helper' },
  ];
  await loadFlow(packageNodes, flow, {
    c: { apikey: KEY, apisecret: SECRET },
    cg: { apikey: KEY, apisecret: SECRET },
    cm: { apikey: KEY, apisecret: SECRET },
    cr: { apikey: KEY, apisecret: SECRET, redisurl: redis?.url ?? '' },
  });
  const vonage = new Vonage({ apiKey: KEY, apiSecret: SECRET, privateKey: '' }, { restHost, apiHost: restHost, timeout: 30_000 });

  const throughNode = (send = 's', out = 'o') => sendThrough(send, out, n);
  const throughSdk = async (api: 'sms' | 'messages' = 'sms') => {
    const started = performance.now();
    const send = (i: number) =>
      api === 'sms'
        ? vonage.sms.send({ to: '447700900123', from: 'Bench', text: `Hello ${i}` })
        : vonage.messages.send({ message_type: 'text', channel: 'sms', to: '447700900123', from: 'Bench', text: `Hello ${i}`, sms: { encodingType: 'text' } } as unknown as Parameters<typeof vonage.messages.send>[0]);
    await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
    return n / ((performance.now() - started) / 1000);
  };

  await throughSdk(); // warm every path up
  await throughNode();
  await throughSdk('messages');
  await throughNode('sm', 'om');
  await throughNode('sg', 'og');
  if (redis) await throughNode('sr', 'or');
  const node: number[] = [];
  const guarded: number[] = [];
  const sdk: number[] = [];
  const messages: number[] = [];
  const sdkMessages: number[] = [];
  const shared: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    node.push(await throughNode());
    sdk.push(await throughSdk());
    guarded.push(await throughNode('sg', 'og'));
    if (redis) shared.push(await throughNode('sr', 'or'));
  }
  // The Messages API's pairs in a block of their own: a round right after the SMS API's SDK round pays for
  // what that round left behind in this one process (measured: 0.87 so, 2.3 alone).
  await throughNode('sm', 'om');
  await throughSdk('messages');
  for (let r = 0; r < rounds; r += 1) {
    messages.push(await throughNode('sm', 'om'));
    sdkMessages.push(await throughSdk('messages'));
  }
  await helper.unload();
  api.reset();
  // Each round against the one right after it: the machine's drift cancels out of a paired ratio.
  const ratio = median(node.map((v, i) => v / sdk[i]));
  rows.push({
    measure: `1. Send overhead (${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(node))} SMS/s`,
    reference: `${fixed(median(sdk))} SMS/s raw SDK`,
    ratio: fixed(ratio, 2),
    target: '≥ 0.90',
    met: ratio >= 0.9 ? 'yes' : 'no',
  });
  const messagesRatio = median(messages.map((v, i) => v / sdkMessages[i]));
  rows.push({
    measure: `1b. Send overhead on the Messages API (${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(messages))} SMS/s`,
    reference: `${fixed(median(sdkMessages))} SMS/s raw SDK (messages client)`,
    ratio: fixed(messagesRatio, 2),
    target: '≥ 0.90',
    met: messagesRatio >= 0.9 ? 'yes' : 'no',
  });
  const guardedRatio = median(guarded.map((v, i) => v / node[i]));
  rows.push({
    measure: `1c. Send overhead with every spend limit on (countries, daily parts and spend, per recipient; ${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(guarded))} SMS/s`,
    reference: `${fixed(median(node))} SMS/s with none`,
    ratio: fixed(guardedRatio, 2),
    target: '≥ 0.90',
    met: guardedRatio >= 0.9 ? 'yes' : 'no',
  });
  if (!redis) return;
  const sharedRatio = median(shared.map((v, i) => v / node[i]));
  rows.push({
    measure: `6b. Send overhead with the state in Redis (${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(shared))} SMS/s`,
    reference: `${fixed(median(node))} SMS/s in memory`,
    ratio: fixed(sharedRatio, 2),
    target: '≥ 0.90',
    met: sharedRatio >= 0.9 ? 'yes' : 'no',
  });
}

/** 6a. Two config nodes with one API key and one Redis, as two instances: a burst of 10×R between them at a limit of R. */
async function sharedRate(): Promise<void> {
  if (!redis) return;
  const rate = 30;
  const n = 10 * rate * (SMOKE ? 0.2 : 1);
  api.account(KEY)!.ratePerSecond = rate;
  const flow = [
    { id: 't', type: 'tab' },
    ...['a', 'b'].flatMap((x) => [
      { id: `c${x}`, type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate, queuesize: n + 10, timeout: 30 },
      { id: `s${x}`, z: 't', type: 'sendsms', creds: `c${x}`, to: '447700900123', fr: 'Bench', text: `burst ${x} {{msg.payload}}`, wires: [['o']] },
    ]),
    { id: 'o', z: 't', type: 'helper' },
  ];
  const creds = { apikey: KEY, apisecret: SECRET, redisurl: redis.url };
  await loadFlow(packageNodes, flow, { ca: creds, cb: creds });
  await new Promise<void>((resolve) => {
    let done = 0;
    helper.getNode('o').on('input', () => (done += 1) === n && resolve());
    for (let i = 0; i < n / 2; i += 1) {
      helper.getNode('sa').receive({ payload: i });
      helper.getNode('sb').receive({ payload: i });
    }
  });
  await helper.unload();
  const { sent, achieved, unique, requests, throttled } = burstOutcome();
  const share = throttled / requests;
  rows.push({
    measure: `6a. Two instances over Redis (${n} SMS, half into each, R = ${rate}/s)`,
    ours: `${fixed(achieved, 1)}/s achieved together`,
    reference: `${rate}/s limit`,
    ratio: fixed(achieved / rate, 3),
    target: '≥ 0.95',
    met: achieved / rate >= 0.95 ? 'yes' : 'no',
  });
  rows.push({ measure: '6a. … throttled answers (status 1)', ours: `${throttled} of ${requests} (${fixed(share * 100, 1)}%)`, reference: '', ratio: '', target: '≤ 1%', met: share <= 0.01 ? 'yes' : 'no' });
  rows.push({ measure: '6a. … lost / duplicated SMS', ours: `${n - unique} / ${sent.length - unique}`, reference: '', ratio: '', target: '0 / 0', met: n === unique && sent.length === unique ? 'yes' : 'no' });
}

/**
 * 6d. The send journal: the send queue over Redis (shared rate limiter) with its journal against the same
 * queue without it, N SMS at once, rounds alternating. 6e. Two real Node-RED processes over Redis: the
 * time from kill -9 of the one holding a burst to the last of its SMS sent by the other.
 */
async function sendJournal(): Promise<void> {
  if (!redis) return;
  const n = SMOKE ? 40 : 1000;
  const rounds = SMOKE ? 2 : 11;
  const compiled = (file: string) => require(path.join(ROOT, 'nodes', file));
  const { RedisAccountState } = compiled('state/redisAccountState.js');
  const { SendQueue } = compiled('sending/sendQueue.js');
  const { SharedRateLimiter } = compiled('sending/sharedRateLimiter.js');
  const { vonageClient } = compiled('vonage/vonageClient.js');
  type Queue = { submit(request: object, owner: string): Promise<unknown>; close(reason: string): Promise<number> };
  const state = new RedisAccountState(redis.url, KEY);
  const client = vonageClient({ api: 'sms', apiKey: KEY, apiSecret: SECRET, host: restHost, timeoutMs: 30_000 });
  const queue = (journal: unknown): Queue =>
    new SendQueue(client, {
      ratePerSecond: UNBINDING_RATE,
      perSenderPerSecond: 0,
      maxQueued: n + 10,
      maxRetries: 3,
      backoffMs: 500,
      limiter: new SharedRateLimiter(state.sendSlots(UNBINDING_RATE, 0), UNBINDING_RATE),
      stateWaitMs: 30_000,
      journal,
    });
  const journalled = queue(state.sendJournal());
  const plain = queue(undefined);
  const round = async (q: Queue) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => q.submit({ to: '447700900123', from: 'Bench', text: `Hello ${i}`, type: 'text' }, 'bench')));
    return n / ((performance.now() - started) / 1000);
  };
  await round(plain);
  await round(journalled);
  const without: number[] = [];
  const withJournal: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    without.push(await round(plain));
    withJournal.push(await round(journalled));
  }
  await journalled.close('bench over');
  await plain.close('bench over');
  client.close();
  await state.close();
  api.reset();
  const ratio = median(withJournal.map((v, i) => v / without[i]));
  rows.push({
    measure: `6d. Send rate with the send journal in Redis (${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(withJournal))} SMS/s`,
    reference: `${fixed(median(without))} SMS/s without the journal`,
    ratio: fixed(ratio, 2),
    target: '≥ 0.90',
    met: ratio >= 0.9 ? 'yes' : 'no',
  });

  // 6e: B holds a burst of 250 at R = 30/s and is killed; A (same flows, same node ids) takes it over.
  const count = SMOKE ? 60 : 250;
  const events: Array<{ event: string; to: string }> = [];
  const collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      events.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const report = (event: string) => `msg.payload = { event: '${event}', to: msg.sms && msg.sms.to }; return msg;`;
  const url = `http://127.0.0.1:${(collector.address() as { port: number }).port}/`;
  const flows = [
    { id: 'jt', type: 'tab', label: 'journal' },
    { id: 'jc', type: 'nexmobasic', perrecipient: 0, name: 'journal account', resthost: restHost, rate: 30, queuesize: 1000, timeout: 30 },
    { id: 'jh', z: 'jt', type: 'http in', url: '/bench/hold', method: 'post', wires: [['jr', 'jm']] },
    { id: 'jr', z: 'jt', type: 'http response', statusCode: '202', wires: [] },
    { id: 'jm', z: 'jt', type: 'change', rules: [{ t: 'move', p: 'payload.to', pt: 'msg', to: 'to', tot: 'msg' }], wires: [['js']] },
    { id: 'js', z: 'jt', type: 'sendsms', creds: 'jc', to: '', fr: 'Bench', text: 'held', wires: [['jo']] },
    { id: 'jo', z: 'jt', type: 'function', func: report('sent'), outputs: 1, wires: [['jp']] },
    { id: 'jk', z: 'jt', type: 'catch', scope: ['js'], uncaught: false, wires: [['jf']] },
    { id: 'jf', z: 'jt', type: 'function', func: report('failed'), outputs: 1, wires: [['jp']] },
    { id: 'jp', z: 'jt', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url, wires: [[]] },
  ];
  const { withPackage } = paletteInstall();
  const instanceDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-red-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.symlinkSync(path.join(withPackage, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.copyFileSync(path.join(withPackage, 'package.json'), path.join(dir, 'package.json'));
    return dir;
  };
  const credentials = { jc: { apikey: KEY, apisecret: SECRET, redisurl: redis.url } };
  const a = await startNodeRed(instanceDir(), flows, credentials);
  const b = await startNodeRed(instanceDir(), flows, credentials);
  api.account(KEY)!.ratePerSecond = 30;
  const to = Array.from({ length: count }, (_, i) => `4477009${String(40_000 + i).padStart(5, '0')}`);
  await b.call('POST', '/bench/hold', { to });
  const until = async (check: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  };
  await until(() => api.sent.length >= 20, 30_000);
  await b.kill();
  const killedAt = Date.now();
  const settled = () => {
    const accepted = new Set(api.sent.map((r) => r.params.to));
    return to.filter((n) => accepted.has(n) || events.some((e) => e.event === 'failed' && e.to === n)).length;
  };
  const whole = await until(() => settled() === count, 120_000);
  const counts = new Map<string, number>();
  for (const r of api.sent) counts.set(r.params.to, (counts.get(r.params.to) ?? 0) + 1);
  const twice = [...counts.values()].filter((c) => c > 1).length;
  const seconds = (Math.max(...api.sent.map((r) => r.at)) - killedAt) / 1000;
  const lost = count - settled();
  await a.stop();
  collector.close();
  api.account(KEY)!.ratePerSecond = undefined;
  api.reset();
  rows.push({
    measure: `6e. kill -9 of the Node-RED holding ${count} SMS (R = 30/s): to the last of them sent by the other`,
    ours: whole ? `${fixed(seconds, 1)} s` : 'not all recovered',
    reference: `lease 10 s, renewed every 2.5 s; the rest at R`,
    ratio: '',
    target: '≤ 30 s + the SMS left / R',
    met: whole && seconds <= 30 + count / 30 ? 'yes' : 'no',
  });
  rows.push({ measure: '6e. … lost / sent twice', ours: `${lost} / ${twice}`, reference: '', ratio: '', target: '0 / 0', met: lost === 0 && twice === 0 ? 'yes' : 'no' });
}

/** 2. A burst of 10×R at a limit of R, against a loopback enforcing R. */
async function rateFidelity(): Promise<void> {
  const rate = SMOKE ? 20 : 50;
  const n = 10 * rate * (SMOKE ? 0.2 : 1);
  api.account(KEY)!.ratePerSecond = rate;
  const flow = [
    { id: 't', type: 'tab' },
    { id: 'c', type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate, queuesize: n + 10, timeout: 30 },
    { id: 's', z: 't', type: 'sendsms', creds: 'c', to: '447700900123', fr: 'Bench', text: 'burst {{msg.payload}}', wires: [['o']] },
    { id: 'o', z: 't', type: 'helper' },
  ];
  await loadFlow(packageNodes, flow, { c: { apikey: KEY, apisecret: SECRET } });
  await new Promise<void>((resolve) => {
    let done = 0;
    helper.getNode('o').on('input', () => (done += 1) === n && resolve());
    for (let i = 0; i < n; i += 1) helper.getNode('s').receive({ payload: i });
  });
  await helper.unload();
  const { sent, achieved, unique, throttled } = burstOutcome();
  rows.push({
    measure: `2. Rate fidelity (${n} SMS at R = ${rate}/s)`,
    ours: `${fixed(achieved, 1)}/s achieved`,
    reference: `${rate}/s limit`,
    ratio: fixed(achieved / rate, 3),
    target: '≥ 0.97',
    met: achieved / rate >= 0.97 ? 'yes' : 'no',
  });
  rows.push({ measure: '2. … throttled answers (status 1)', ours: String(throttled), reference: '', ratio: '', target: '0', met: throttled === 0 ? 'yes' : 'no' });
  rows.push({ measure: '2. … lost / duplicated SMS', ours: `${n - unique} / ${sent.length - unique}`, reference: '', ratio: '', target: '0 / 0', met: n === unique && sent.length === unique ? 'yes' : 'no' });
}

/** 3. SMS in vs http in + http response, the same load generator and concurrency, rounds interleaved. */
async function inbound(): Promise<void> {
  const total = SMOKE ? 100 : 3000;
  const concurrency = 20;
  const rounds = SMOKE ? 1 : 7;
  let app: import('node:http').RequestListener | undefined;
  const capture = (RED: { httpNode: import('node:http').RequestListener }) => {
    app = RED.httpNode;
  };
  const flow = [
    { id: 't', type: 'tab' },
    { id: 'in', z: 't', type: 'vonage-sms-in', url: '/bench-sms-in', wires: [['sink']] },
    // Webhooks naming the API key of a config node with a Shared state keep their state in Redis.
    { id: 'cr', type: 'nexmobasic', perrecipient: 0, resthost: restHost },
    { id: 'inr', z: 't', type: 'vonage-sms-in', url: '/bench-sms-in-redis', wires: [['sink']] },
    { id: 'hin', z: 't', type: 'http in', url: '/bench-http-in', method: 'get', wires: [['hres', 'sink']] },
    { id: 'hres', z: 't', type: 'http response', statusCode: '', headers: {}, wires: [] },
    { id: 'sink', z: 't', type: 'helper' },
  ];
  await loadFlow([...packageNodes, httpNodes, capture], flow, redis ? { cr: { apikey: KEY, apisecret: SECRET, redisurl: redis.url } } : {});
  const http = await import('node:http');
  const server = http.createServer((req, res) => app!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

  const get = (url: string) =>
    new Promise<void>((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  const load = async (pathName: string) => {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < total) {
        next += 1;
        const [params] = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Hello' }, { apiKey: pathName.endsWith('-redis') ? KEY : 'memory01' });
        const url = `${base}${pathName}?${new URLSearchParams(params)}`;
        const t = performance.now();
        await get(url);
        latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { perSecond: total / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  };
  await load('/bench-sms-in');
  await load('/bench-http-in');
  if (redis) await load('/bench-sms-in-redis');
  const ours: Array<{ perSecond: number; p50: number; p99: number }> = [];
  const theirs: typeof ours = [];
  const shared: typeof ours = [];
  for (let r = 0; r < rounds; r += 1) {
    ours.push(await load('/bench-sms-in'));
    theirs.push(await load('/bench-http-in'));
    if (redis) shared.push(await load('/bench-sms-in-redis'));
  }
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await helper.unload();
  const m = (list: typeof ours, key: 'perSecond' | 'p50' | 'p99') => median(list.map((x) => x[key]));
  // Each round against the one right after it, as in 1: the machine's drift cancels out of a paired ratio.
  const ratio = median(ours.map((o, i) => o.perSecond / theirs[i].perSecond));
  rows.push({
    measure: `3. Inbound (${total} requests, ${concurrency} at a time, ${rounds} paired rounds)`,
    ours: `${fixed(m(ours, 'perSecond'))} req/s; p50 ${fixed(m(ours, 'p50'), 2)} ms, p99 ${fixed(m(ours, 'p99'), 2)} ms`,
    reference: `${fixed(m(theirs, 'perSecond'))} req/s; p50 ${fixed(m(theirs, 'p50'), 2)} ms, p99 ${fixed(m(theirs, 'p99'), 2)} ms (http in + http response)`,
    ratio: fixed(ratio, 2),
    target: '≥ 0.90',
    met: ratio >= 0.9 ? 'yes' : 'no',
  });
  if (!redis) return;
  const sharedRatio = median(shared.map((o, i) => o.perSecond / ours[i].perSecond));
  rows.push({
    measure: `6c. Inbound with the state in Redis (${total} requests, ${concurrency} at a time, ${rounds} paired rounds)`,
    ours: `${fixed(m(shared, 'perSecond'))} req/s; p50 ${fixed(m(shared, 'p50'), 2)} ms, p99 ${fixed(m(shared, 'p99'), 2)} ms`,
    reference: `${fixed(m(ours, 'perSecond'))} req/s in memory`,
    ratio: fixed(sharedRatio, 2),
    target: '≥ 0.70',
    met: sharedRatio >= 0.7 ? 'yes' : 'no',
  });
}

/** 4. Heap and RSS growth with SMS waiting in the send queue. */
async function memory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    notes.push('Memory was not measured: run with node --expose-gc (npm run bench does).');
    return;
  }
  const sizes = SMOKE ? [1000, 2000, 3000] : [10_000, 50_000, 100_000];
  const flow = [
    { id: 't', type: 'tab' },
    // One SMS a minute: everything after the first waits in the queue.
    { id: 'c', type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate: 1 / 60, queuesize: sizes[sizes.length - 1] + 10, timeout: 30 },
    { id: 's', z: 't', type: 'sendsms', creds: 'c', to: '447700900123', fr: 'Bench', text: 'Queued {{msg.payload}}', wires: [[]] },
  ];
  helper.settings({ logging: { console: { level: 'off' } } });
  await loadFlow(packageNodes, flow, { c: { apikey: KEY, apisecret: SECRET } });
  const settle = async () => {
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    return process.memoryUsage();
  };
  const base = await settle();
  let queued = 0;
  const cells: string[] = [];
  const perMessage: number[] = [];
  for (const size of sizes) {
    for (; queued < size; queued += 1) helper.getNode('s').receive({ payload: queued });
    // Send SMS composes a burst a slice at a time: read the heap once every SMS is queued (one is sent at once).
    const queue = (helper.getNode('c') as unknown as { sendQueue: { depth: number } }).sendQueue;
    while (queue.depth < queued - 1) await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await settle();
    const heap = now.heapUsed - base.heapUsed;
    const rss = now.rss - base.rss;
    perMessage.push(heap / size);
    cells.push(`${size / 1000}k: heap ${signed(heap / 2 ** 20)} MiB, RSS ${signed(rss / 2 ** 20)} MiB (${fixed(heap / size)} B/SMS)`);
  }
  await helper.unload();
  api.reset();

  // Node-RED's own share: a node that only keeps each msg with its send() and done(), as any node
  // still working on a msg does.
  const held: unknown[] = [];
  const holder = (RED: { nodes: { createNode(node: object, config: object): void; registerType(type: string, ctor: unknown): void } }) => {
    function Holder(this: { on(event: string, handler: (...args: unknown[]) => void): void }, config: object) {
      RED.nodes.createNode(this, config);
      this.on('input', (msg, send, done) => held.push([msg, send, done]));
    }
    RED.nodes.registerType('bench-holder', Holder);
  };
  await loadFlow(
    [holder],
    [
      { id: 't', type: 'tab' },
      { id: 'h', z: 't', type: 'bench-holder', wires: [[]] },
    ],
  );
  const before = await settle();
  for (let i = 0; i < sizes[0]; i += 1) helper.getNode('h').receive({ payload: i });
  const floor = ((await settle()).heapUsed - before.heapUsed) / sizes[0];
  await helper.unload();
  held.length = 0;

  const spread = Math.max(...perMessage) / Math.min(...perMessage);
  const most = Math.max(...perMessage);
  rows.push({
    measure: `4. Memory, SMS waiting in the queue`,
    ours: cells.join('; '),
    reference: `${fixed(floor)} B/msg: Node-RED itself, holding a msg and its send() and done()`,
    ratio: `${fixed(spread, 2)} (max/min B per SMS)`,
    target: '≤ 2048 B/SMS, linear (≤ 1.25)',
    met: spread <= 1.25 && most <= 2048 ? 'yes' : 'no',
  });
}

/** The packed package installed as the palette manager installs it, and a user directory without it; once a run. */
interface PaletteInstall {
  work: string;
  withPackage: string;
  without: string;
  tarball: string;
}
let palette: PaletteInstall | undefined;
function paletteInstall(): PaletteInstall {
  if (palette) return palette;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-'));
  process.once('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  const withPackage = path.join(work, 'with');
  const without = path.join(work, 'without');
  for (const dir of [withPackage, without]) {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
  }
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const tarball = path.join(work, packed.filename);
  execFileSync('npm', ['install', ...PALETTE_INSTALL_FLAGS, '--', tarball], { cwd: withPackage, stdio: ['ignore', 'pipe', 'pipe'] });
  palette = { work, withPackage, without, tarball };
  return palette;
}

/** 5. Node-RED's start with and without the package, and the package's own require time. */
async function loadTime(): Promise<void> {
  const rounds = SMOKE ? 1 : 3;
  const { withPackage, without } = paletteInstall();
  const start = (userDir: string) =>
    new Promise<number>((resolve, reject) => {
      const settings = path.join(userDir, 'settings.js');
      fs.writeFileSync(settings, "module.exports = { uiHost: '127.0.0.1', uiPort: 0, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } } };\n");
      const started = performance.now();
      const child = spawn(process.execPath, [path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settings]);
      let output = '';
      const onData = (d: Buffer) => {
        output += d;
        if (/Started flows/.test(output)) {
          const ms = performance.now() - started;
          child.kill('SIGTERM');
          child.once('exit', () => resolve(ms));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => !/Started flows/.test(output) && reject(new Error(`Node-RED exited ${code}: ${output}`)));
    });
  const withTimes: number[] = [];
  const withoutTimes: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    withoutTimes.push(await start(without));
    withTimes.push(await start(withPackage));
  }
  const installed = path.join(withPackage, 'node_modules', 'node-red-contrib-vonage-sms');
  const requireMs = Number(
    execFileSync(
      process.execPath,
      [
        '-e',
        `const t=performance.now(); const RED={nodes:{registerType(){}},httpAdmin:{post(){},get(){}},auth:{needsPermission:()=>()=>{}}}; for (const n of ${JSON.stringify(NODE_FILES)}) require(${JSON.stringify(installed)}+'/nodes/'+n+'.js')(RED); console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8' },
    ).trim(),
  );
  const extra = median(withTimes) - median(withoutTimes);
  rows.push({
    measure: `5. Load (median of ${rounds} starts)`,
    ours: `Node-RED start with the package ${fixed(median(withTimes))} ms; loading and registering its ${NODE_FILES.length} nodes alone ${fixed(requireMs)} ms`,
    reference: `without it ${fixed(median(withoutTimes))} ms`,
    ratio: `${signed(extra, 0)} ms`,
    target: '(reported)',
    met: '',
  });
}

/** A Node-RED (red.js) of its own, with the palette-installed package, started with --expose-gc and the flows given. */
interface RunningNodeRed {
  base: string;
  /** POSTs JSON, or GETs; resolves with the parsed answer. */
  call(method: 'GET' | 'POST', pathName: string, body?: unknown, headers?: Record<string, string>): Promise<unknown>;
  stop(): Promise<void>;
  /** SIGKILL: nothing of it runs on. */
  kill(): Promise<void>;
}

/**
 * The event loop's longest pause in the real Node-RED, between start() and stop(), in ms: a timer due
 * every millisecond (monitorEventLoopDelay), whose longest delay is the longest time nothing else could run.
 */
const PAUSES = "(() => { const h = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 }); return { start() { h.reset(); h.enable(); }, stop() { h.disable(); return h.max / 1e6; } }; })()";

async function startNodeRed(userDir: string, flows: unknown[], credentials: Record<string, unknown>): Promise<RunningNodeRed> {
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  fs.writeFileSync(
    settings,
    "module.exports = { uiHost: '127.0.0.1', uiPort: 0, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } },\n" +
      '  functionGlobalContext: { gc: global.gc, memoryUsage: () => process.memoryUsage(), pauses: ' +
      PAUSES +
      ' } };\n',
  );
  const child = spawn(process.execPath, ['--expose-gc', path.join(nodeRedDir, 'red.js'), '--userDir', userDir, '--settings', settings], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Only the start is read; the rest (20,000 failed SMS logged at a redeploy) is drained and dropped.
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      if (output.length < 100_000) output += d;
      const url = /Server now running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (url && /Started flows/.test(output)) resolve(url[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Node-RED exited ${code}: ${output}`)));
  });
  const call = async (method: 'GET' | 'POST', pathName: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${pathName}`, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathName}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const kill = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { base, call, stop, kill };
}

/**
 * 8 and 9, in a real Node-RED (red.js, the package installed from the palette, compiled JavaScript):
 * 8. a cold burst of 300 msgs from one function node into Send SMS at R = 30/s, against a loopback
 *    enforcing 30/s, right after the start (no connection open yet);
 * 9. the heap per SMS waiting in the queue, and what is left of them after a redeploy, against a delay
 *    node (rate limit mode) holding as many msgs.
 */
async function realNodeRed(): Promise<void> {
  const rate = 30;
  const burst = SMOKE ? 60 : 10 * rate;
  const held = SMOKE ? 2000 : 50_000;
  const userDir = paletteInstall().withPackage;
  const tab = 'b1';
  let y = 40;
  const at = () => ({ x: 200, y: (y += 60) });
  const flows = [
    { id: tab, type: 'tab', label: 'bench' },
    { id: 'cb', type: 'nexmobasic', perrecipient: 0, name: 'burst account', resthost: restHost, rate, queuesize: 1000, timeout: 30 },
    { id: 'cm', type: 'nexmobasic', perrecipient: 0, name: 'memory account', resthost: restHost, rate: 1 / 60, queuesize: held + 10, timeout: 30 },
    // 8: one function node sends the whole burst at once, each text 150 characters and unique.
    { id: 'hb', z: tab, type: 'http in', url: '/bench/burst', method: 'post', ...at(), wires: [['fb', 'rb']] },
    { id: 'rb', z: tab, type: 'http response', statusCode: '', headers: {}, ...at(), wires: [] },
    {
      id: 'fb',
      z: tab,
      type: 'function',
      outputs: 1,
      ...at(),
      wires: [['sb']],
      func: "for (let i = 0; i < msg.payload.n; i++) node.send({ payload: ('Burst ' + i + ': your parcel is on its way and will arrive tomorrow between nine and twelve; reply HELP for help or STOP to opt out of these messages, thank you').padEnd(150, '.').slice(0, 150) });\nreturn null;",
    },
    { id: 'sb', z: tab, type: 'sendsms', creds: 'cb', to: '447700900123', fr: 'Bench', text: '{{msg.payload}}', ...at(), wires: [[]] },
    // 8, the reference: the same burst into a debug node.
    { id: 'hd', z: tab, type: 'http in', url: '/bench/burst-debug', method: 'post', ...at(), wires: [['fd', 'rd']] },
    { id: 'rd', z: tab, type: 'http response', statusCode: '', headers: {}, ...at(), wires: [] },
    { id: 'fd', z: tab, type: 'function', outputs: 1, ...at(), wires: [['db']], func: '' },
    { id: 'db', z: tab, type: 'debug', active: true, tosidebar: true, console: false, complete: 'payload', ...at(), wires: [] },
    // The event loop's longest pause: POST {do: 'start'} then {do: 'stop'}, which answers it in ms.
    { id: 'hp', z: tab, type: 'http in', url: '/bench/pauses', method: 'post', ...at(), wires: [['fp']] },
    {
      id: 'fp',
      z: tab,
      type: 'function',
      outputs: 1,
      ...at(),
      wires: [['rp']],
      func: "const p = global.get('pauses');\nif (msg.payload.do === 'start') { p.start(); msg.payload = {}; } else msg.payload = { longestMs: p.stop() };\nreturn msg;",
    },
    { id: 'rp', z: tab, type: 'http response', statusCode: '', headers: {}, ...at(), wires: [] },
    // 9: msgs that wait (one SMS a minute), in Send SMS or in a delay node; the answer once all are handed on.
    { id: 'hf', z: tab, type: 'http in', url: '/bench/fill', method: 'post', ...at(), wires: [['ff']] },
    {
      id: 'ff',
      z: tab,
      type: 'function',
      outputs: 3,
      ...at(),
      wires: [['sm'], ['dl'], ['rf']],
      func: "const n = msg.payload.n; const to = msg.payload.into === 'delay' ? 1 : 0;\nfor (let i = 0; i < n; i++) { const out = [null, null, null]; out[to] = { payload: i }; node.send(out); }\nif (to === 1) return [null, null, msg];\n// Send SMS composes a burst a slice at a time: the answer once its status shows every SMS queued (one is sent at once).\nflow.set('fill', { msg, want: n - 1 });\nreturn null;",
    },
    { id: 'sq', z: tab, type: 'status', scope: ['sm'], ...at(), wires: [['fq']] },
    {
      id: 'fq',
      z: tab,
      type: 'function',
      outputs: 1,
      ...at(),
      wires: [['rf']],
      func: "const fill = flow.get('fill');\nif (!fill || msg.status.fill !== 'blue' || !(parseInt(String(msg.status.text).replace(/\\D+/, ''), 10) >= fill.want)) return null;\nflow.set('fill', undefined);\nreturn fill.msg;",
    },
    { id: 'rf', z: tab, type: 'http response', statusCode: '', headers: {}, ...at(), wires: [] },
    { id: 'sm', z: tab, type: 'sendsms', creds: 'cm', to: '447700900123', fr: 'Bench', text: 'Queued {{msg.payload}}', ...at(), wires: [[]] },
    {
      id: 'dl',
      z: tab,
      type: 'delay',
      pauseType: 'rate',
      timeout: '5',
      timeoutUnits: 'seconds',
      rate: '1',
      nbRateUnits: '1',
      rateUnits: 'minute',
      randomFirst: '1',
      randomLast: '5',
      randomUnits: 'seconds',
      drop: false,
      allowrate: false,
      outputs: 1,
      ...at(),
      wires: [[]],
    },
    { id: 'hm', z: tab, type: 'http in', url: '/bench/heap', method: 'get', ...at(), wires: [['fm']] },
    {
      id: 'fm',
      z: tab,
      type: 'function',
      outputs: 1,
      ...at(),
      wires: [['rm']],
      func: "const pause = () => new Promise((resolve) => setTimeout(resolve, 50));\nfor (let i = 0; i < 5; i++) await pause();\nglobal.get('gc')(); await pause(); global.get('gc')();\nmsg.payload = global.get('memoryUsage')();\nreturn msg;",
    },
    { id: 'rm', z: tab, type: 'http response', statusCode: '', headers: {}, ...at(), wires: [] },
  ];
  (flows.find((f) => f.id === 'fd') as { func: string }).func = (flows.find((f) => f.id === 'fb') as { func: string }).func;
  const credentials = { cb: { apikey: KEY, apisecret: SECRET }, cm: { apikey: LISTED_KEY, apisecret: SECRET } };
  api.account(KEY)!.ratePerSecond = rate;
  const red = await startNodeRed(userDir, flows, credentials);
  try {
    // 8. The burst, cold.
    const pauses = async (action: 'start' | 'stop') => ((await red.call('POST', '/bench/pauses', { do: action })) as { longestMs?: number }).longestMs ?? 0;
    await pauses('start');
    await red.call('POST', '/bench/burst', { n: burst });
    // While the burst is composed and handed to the queue (as for the debug node below).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const burstPause = await pauses('stop');
    const deadline = Date.now() + 60_000 + (burst / rate) * 2000;
    while (api.sent.filter((r) => r.apiKey === KEY).length < burst && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // The same burst into a debug node, three times: the median of its longest pauses.
    const debugPauses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await pauses('start');
      await red.call('POST', '/bench/burst-debug', { n: burst });
      await new Promise((resolve) => setTimeout(resolve, 500));
      debugPauses.push(await pauses('stop'));
    }
    const debugPause = [...debugPauses].sort((a, b) => a - b)[1];
    const { sent, achieved, unique, requests, throttled } = burstOutcome();
    rows.push({
      measure: `8. Cold burst in a real Node-RED (${burst} msgs from one function node, 150 characters each, R = ${rate}/s)`,
      ours: `${fixed(achieved, 1)}/s achieved`,
      reference: `${rate}/s limit`,
      ratio: fixed(achieved / rate, 3),
      target: '≥ 0.98',
      met: achieved / rate >= 0.98 ? 'yes' : 'no',
    });
    rows.push({ measure: '8. … throttled answers (status 1)', ours: `${throttled} of ${requests}`, reference: '', ratio: '', target: '0', met: throttled === 0 ? 'yes' : 'no' });
    rows.push({
      measure: "8. … the event loop's longest pause while the burst is composed and queued (reference: the same burst into a debug node, median of 3)",
      ours: `${fixed(burstPause, 1)} ms`,
      reference: `${fixed(debugPause, 1)} ms`,
      ratio: fixed(burstPause / debugPause, 2),
      target: '≤ 25 ms',
      met: burstPause <= 25 ? 'yes' : 'no',
    });
    rows.push({ measure: '8. … lost / duplicated SMS', ours: `${burst - unique} / ${sent.length - unique}`, reference: '', ratio: '', target: '0 / 0', met: burst === unique && sent.length === unique ? 'yes' : 'no' });

    // 9. Heap per waiting msg, and after a redeploy; a redeploy first, so that its own one-time cost is paid.
    const heap = async () => ((await red.call('GET', '/bench/heap')) as { heapUsed: number }).heapUsed;
    const redeploy = async () => {
      await red.call('POST', '/flows', flows, { 'Node-RED-Deployment-Type': 'full' });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    };
    const fill = async (into: 'sendsms' | 'delay', n = held) => {
      await red.call('POST', '/bench/fill', { n, into });
      await new Promise((resolve) => setTimeout(resolve, 300));
    };
    // Both paths once at a tenth of the size, and a redeploy: what is made once (compiled code, the
    // runtime's own structures) is made before the figures are taken.
    await fill('delay', held / 10);
    await fill('sendsms', held / 10);
    await redeploy();
    const h0 = await heap();
    await fill('delay');
    const h1 = await heap();
    await redeploy();
    const h2 = await heap();
    await fill('sendsms');
    const h3 = await heap();
    await redeploy();
    const h4 = await heap();
    api.reset();
    const perMsg = (bytes: number) => bytes / held;
    const ours = perMsg(h3 - h2);
    const left = perMsg(h4 - h2);
    const delay = perMsg(h1 - h0);
    const delayLeft = perMsg(h2 - h0);
    rows.push({
      measure: `9. Memory in a real Node-RED, ${held.toLocaleString('en')} SMS waiting in the queue`,
      ours: `heap ${signed((h3 - h2) / 2 ** 20)} MiB (${fixed(ours)} B/SMS)`,
      reference: `${fixed(delay)} B/msg in a delay node (rate limit, 1 msg/min)`,
      ratio: fixed(ours / delay, 2),
      target: '≤ 1,536 B/SMS',
      met: ours <= 1536 ? 'yes' : 'no',
    });
    rows.push({
      measure: '9. … held after a redeploy fails them',
      ours: `${signed((h4 - h2) / 2 ** 20, 2)} MiB (${signed(left, 1)} B/SMS)`,
      reference: `${signed(delayLeft, 1)} B/msg after the delay node's redeploy`,
      ratio: '',
      target: '≤ 32 B/SMS (nothing held)',
      met: left <= 32 ? 'yes' : 'no',
    });
  } finally {
    api.account(KEY)!.ratePerSecond = undefined;
    await red.stop();
  }
}

/** A GSM-7 text of 160 characters, a different one for each i. */
const text160 = (i: number) =>
  `Your order ${100000 + i} has shipped and will arrive tomorrow between 9:00 and 12:00. Reply HELP for help or STOP to opt out. Thank you for shopping with us!`.padEnd(160, '.').slice(0, 160);

/**
 * 10. Composing an SMS (render the templates, normalise the numbers, choose the encoding and count the
 * parts), in the compiled module Send SMS runs and the editor's counter is built from, against the
 * segment library alone on the same text (what the count cost before its fast path for GSM-7).
 */
async function compose(): Promise<void> {
  const { composeSms, parseSmsTemplates } = require(path.join(ROOT, 'nodes', 'sms', 'composeSms.js')) as typeof import('../src/sms/composeSms');
  const { SegmentedMessage } = require('sms-segments-calculator') as typeof import('sms-segments-calculator');
  const templates = parseSmsTemplates({ to: '447700900123', fr: 'Bench', text: '{{msg.payload}}' });
  const sources = (payload: string) => ({ msg: { payload, _msgid: 'b3nch' }, env: () => undefined, context: async () => undefined });
  const per = SMOKE ? 200 : 2000;
  const rounds = SMOKE ? 3 : 15;
  let next = 0;
  const oneMicros: number[] = [];
  const libraryMicros: number[] = [];
  const burstMs: number[] = [];
  for (let r = 0; r < rounds + 1; r += 1) {
    let started = performance.now();
    for (let i = 0; i < per; i += 1) await composeSms(templates, sources(text160((next += 1))));
    const one = ((performance.now() - started) * 1000) / per;
    started = performance.now();
    await Promise.all(Array.from({ length: 300 }, () => composeSms(templates, sources(text160((next += 1))))));
    const burst = performance.now() - started;
    started = performance.now();
    for (let i = 0; i < per / 10; i += 1) void new SegmentedMessage(text160((next += 1)), 'auto').segmentsCount;
    const library = ((performance.now() - started) * 1000) / (per / 10);
    if (r === 0) continue; // warm-up
    oneMicros.push(one);
    burstMs.push(burst);
    libraryMicros.push(library);
  }
  const one = median(oneMicros);
  const burst = median(burstMs);
  rows.push({
    measure: `10. Compose one SMS of 160 GSM-7 characters (render, normalise, count; median of ${rounds} rounds of ${per})`,
    ours: `${fixed(one, 1)} µs`,
    reference: `${fixed(median(libraryMicros))} µs: sms-segments-calculator alone counting the same text`,
    ratio: fixed(one / median(libraryMicros), 3),
    target: '≤ 10 µs',
    met: one <= 10 ? 'yes' : 'no',
  });
  rows.push({ measure: '10. … a burst of 300 such msgs composed at once', ours: `${fixed(burst, 2)} ms`, reference: '', ratio: '', target: '≤ 5 ms', met: burst <= 5 ? 'yes' : 'no' });
}

/**
 * 11. One SMS at a time: from a msg into Send SMS to its msg out, against the raw SDK's sms.send, and the
 * floor: a bare keep-alive HTTP POST of the same JSON body with the same Basic auth. Interleaved.
 */
async function latency(): Promise<void> {
  const n = SMOKE ? 20 : 400;
  const flow = [
    { id: 't', type: 'tab' },
    { id: 'c', type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate: UNBINDING_RATE, queuesize: 100, timeout: 30 },
    { id: 's', z: 't', type: 'sendsms', creds: 'c', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [['o']] },
    { id: 'o', z: 't', type: 'helper' },
  ];
  await loadFlow(packageNodes, flow, { c: { apikey: KEY, apisecret: SECRET } });
  const vonage = new Vonage({ apiKey: KEY, apiSecret: SECRET, privateKey: '' }, { restHost, timeout: 30_000 });
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const authorization = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;
  const url = new URL(`${restHost}/sms/json`);
  const bare = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ to: '447700900123', from: 'Bench', text: `Hello ${i}`, type: 'text' });
      const req = http.request(url, { method: 'POST', agent, headers: { Authorization: authorization, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (JSON.parse(text).messages[0].status === '0' ? resolve() : reject(new Error(text))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const node = helper.getNode('s');
  const out = helper.getNode('o');
  const throughNode = (i: number) =>
    new Promise<void>((resolve) => {
      out.once('input', () => resolve());
      node.receive({ payload: i });
    });
  const times: Record<'node' | 'sdk' | 'bare', number[]> = { node: [], sdk: [], bare: [] };
  const paths: Array<['node' | 'sdk' | 'bare', (i: number) => Promise<unknown>]> = [
    ['node', throughNode],
    ['sdk', (i) => vonage.sms.send({ to: '447700900123', from: 'Bench', text: `Hello ${i}` })],
    ['bare', bare],
  ];
  for (let i = 0; i < n + 20; i += 1) {
    // Each in turn, starting with another each time; the first 20 warm up.
    for (let k = 0; k < paths.length; k += 1) {
      const [name, run] = paths[(i + k) % paths.length];
      const started = performance.now();
      await run(i);
      if (i >= 20) times[name].push(performance.now() - started);
    }
  }
  agent.destroy();
  await helper.unload();
  api.reset();
  const ratio = median(times.node) / median(times.sdk);
  rows.push({
    measure: `11. Latency of one SMS, msg in to msg out (median of ${n}, interleaved)`,
    ours: `${fixed(median(times.node), 3)} ms`,
    reference: `${fixed(median(times.sdk), 3)} ms raw SDK; floor ${fixed(median(times.bare), 3)} ms, a bare keep-alive POST`,
    ratio: fixed(ratio, 2),
    target: '≤ 1.10',
    met: ratio <= 1.1 ? 'yes' : 'no',
  });
}

/** Bytes, files and packages under a node_modules. */
function footprintOf(dir: string): { bytes: number; files: number; packages: number } {
  let bytes = 0;
  let files = 0;
  let packages = 0;
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        files += 1;
        bytes += fs.statSync(full).size;
        if (entry.name === 'package.json' && /node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(at)) packages += 1;
      }
    }
  };
  walk(dir);
  return { bytes, files, packages };
}

/**
 * 12. What a palette install costs: the packed package installed with the palette manager's npm flags,
 * as it is (its own client on Node's fetch) and with the Vonage SDK it used to depend on, or the scoped
 * packages for its three endpoints, installed beside it. npm's cache is warmed by one install of each first.
 */
async function footprint(): Promise<void> {
  const { work, tarball } = paletteInstall();
  const choices: Array<[string, string[]]> = [
    ['its own client on fetch (as published)', []],
    ['@vonage/server-sdk 3.27', ['@vonage/server-sdk@~3.27.0']],
    ['@vonage/sms + @vonage/messages + @vonage/accounts', ['@vonage/sms@~1.21.0', '@vonage/messages@~1.24.0', '@vonage/accounts@~1.20.0']],
  ];
  const install = (extra: string[], round: number) => {
    const dir = fs.mkdtempSync(path.join(work, `footprint-${round}-`));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
    const started = performance.now();
    execFileSync('npm', ['install', ...PALETTE_INSTALL_FLAGS, '--', tarball, ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, ...footprintOf(path.join(dir, 'node_modules')) };
  };
  const results = choices.map(([, extra]) => {
    if (!SMOKE) install(extra, 0);
    return install(extra, 1);
  });
  const mb = (bytes: number) => `${fixed(bytes / 1e6, 1)} MB`;
  const cell = (r: (typeof results)[number]) => `${mb(r.bytes)}, ${r.files.toLocaleString('en')} files, ${r.packages} packages, ${fixed(r.seconds, 1)} s`;
  const [ours, sdk, scoped] = results;
  rows.push({
    measure: '12. Palette install of the package (npm cache warm)',
    ours: `${cell(ours)}`,
    reference: `with ${choices[1][0]}: ${cell(sdk)}; with ${choices[2][0]}: ${cell(scoped)}`,
    ratio: `${fixed(ours.bytes / sdk.bytes, 2)} of the size with the SDK`,
    target: '(reported)',
    met: '',
  });
  const runtime = Object.keys((require(path.join(ROOT, 'package.json')) as { dependencies: object }).dependencies).length;
  notes.push(
    `12: ${runtime} runtime dependencies (the Flow Library's limit is 6); the SDK's install adds ${mb(sdk.bytes - ours.bytes)} and ${sdk.packages - ours.packages} packages, the scoped packages ${mb(scoped.bytes - ours.bytes)} and ${scoped.packages - ours.packages}.`,
  );
}

/** 7. Send SMS with a large opt-out list against an empty one, in memory and in Redis; one check of each list. */
async function optOuts(): Promise<void> {
  const listed = SMOKE ? 1_000 : 100_000;
  const n = SMOKE ? 40 : 1000;
  const rounds = SMOKE ? 2 : 7;
  // US numbers, none of them the recipient: each send checks the list and finds nothing, as most do.
  const numbers = Array.from({ length: listed }, (_, i) => `1555${String(i).padStart(7, '0')}`);
  const since = new Date().toISOString();
  fs.mkdirSync(path.join(USER_DIR, 'vonage-sms'), { recursive: true });
  fs.writeFileSync(path.join(USER_DIR, 'vonage-sms', `optouts-${LISTED_KEY}.txt`), numbers.map((number) => `+${number} ${since} list\n`).join(''));
  if (redis) {
    const { default: Redis } = require('ioredis') as typeof import('ioredis');
    const client = new Redis(redis.url);
    for (let i = 0; i < listed; i += 10_000) await client.hset(`vonage-sms:{${LISTED_KEY}}:optouts`, Object.fromEntries(numbers.slice(i, i + 10_000).map((number) => [number, `${since} list`])));
    client.disconnect();
  }
  const paths: Array<[string, string, Record<string, string>]> = [
    ['empty', KEY, {}],
    ['listed', LISTED_KEY, {}],
    ...(redis
      ? ([
          ['empty-redis', KEY, { redisurl: redis.url }],
          ['listed-redis', LISTED_KEY, { redisurl: redis.url }],
        ] as Array<[string, string, Record<string, string>]>)
      : []),
  ];
  const flow: unknown[] = [{ id: 't', type: 'tab' }];
  const credentials: Record<string, Record<string, string>> = {};
  for (const [name, key, extra] of paths) {
    flow.push(
      { id: `c-${name}`, type: 'nexmobasic', perrecipient: 0, resthost: restHost, rate: UNBINDING_RATE, queuesize: n + 10, timeout: 30 },
      { id: `s-${name}`, z: 't', type: 'sendsms', creds: `c-${name}`, to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', wires: [[`o-${name}`]] },
      { id: `o-${name}`, z: 't', type: 'helper' },
    );
    credentials[`c-${name}`] = { apikey: key, apisecret: SECRET, ...extra };
  }
  const loadStarted = performance.now();
  await loadFlow(packageNodes, flow, credentials);
  const loadMs = performance.now() - loadStarted;
  const through = (name: string) => sendThrough(`s-${name}`, `o-${name}`, n);
  const results: Record<string, number[]> = {};
  for (const [name] of paths) await through(name); // warm up
  for (let r = 0; r < rounds; r += 1) for (const [name] of paths) (results[name] ??= []).push(await through(name));
  // One check of each list, alone: the median of many, in microseconds.
  const checkMicros = async (name: string) => {
    const account = helper.getNode(`c-${name}`) as unknown as { optOuts: { list: { check(n: string): Promise<unknown> } } };
    const list = account.optOuts.list;
    const times: number[] = [];
    for (let i = 0; i < (SMOKE ? 50 : 2000); i += 1) {
      const started = performance.now();
      await list.check(i % 2 ? '447700900123' : numbers[(i * 7919) % listed]);
      times.push((performance.now() - started) * 1000);
    }
    return median(times);
  };
  const checks = Object.fromEntries(await Promise.all(paths.map(async ([name]) => [name, await checkMicros(name)] as const)));
  await helper.unload();
  api.reset();
  const pair = (a: string, b: string) => median(results[a].map((v, i) => v / results[b][i]));
  const memoryRatio = pair('listed', 'empty');
  rows.push({
    measure: `7a. Send SMS with ${listed.toLocaleString('en')} numbers opted out (${n} SMS at once, ${rounds} paired rounds)`,
    ours: `${fixed(median(results.listed))} SMS/s`,
    reference: `${fixed(median(results.empty))} SMS/s, empty list`,
    ratio: fixed(memoryRatio, 2),
    target: '≥ 0.90',
    met: memoryRatio >= 0.9 ? 'yes' : 'no',
  });
  rows.push({
    measure: `7a. … one check of the list, in memory`,
    ours: `${fixed(checks.listed, 1)} µs`,
    reference: `${fixed(checks.empty, 1)} µs, empty list`,
    ratio: '',
    target: '≤ 2,000 µs',
    met: checks.listed <= 2000 ? 'yes' : 'no',
  });
  if (redis) {
    const redisRatio = pair('listed-redis', 'empty-redis');
    rows.push({
      measure: `7b. The same with the list in Redis`,
      ours: `${fixed(median(results['listed-redis']))} SMS/s`,
      reference: `${fixed(median(results['empty-redis']))} SMS/s, empty list`,
      ratio: fixed(redisRatio, 2),
      target: '≥ 0.90',
      met: redisRatio >= 0.9 ? 'yes' : 'no',
    });
    rows.push({
      measure: `7b. … one check of the list, in Redis`,
      ours: `${fixed(checks['listed-redis'], 1)} µs`,
      reference: `${fixed(checks['empty-redis'], 1)} µs, empty list`,
      ratio: '',
      target: '≤ 2,000 µs',
      met: checks['listed-redis'] <= 2000 ? 'yes' : 'no',
    });
  }
  notes.push(`7: deploying the four accounts, which reads the journal file of ${listed.toLocaleString('en')} numbers, took ${fixed(loadMs)} ms.`);
}

/** 7c: what an opt-out list of a million numbers costs in memory, loaded from its journal file as a deploy does. */
async function optOutListMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  const count = SMOKE ? 10_000 : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-list-'));
  const file = path.join(dir, 'optouts-bench.txt');
  const since = new Date().toISOString();
  const out = fs.openSync(file, 'w');
  for (let i = 0; i < count; i += 100_000) {
    fs.writeSync(out, Array.from({ length: Math.min(100_000, count - i) }, (_, k) => `+1555${String(i + k).padStart(7, '0')} ${since} keyword\n`).join(''));
  }
  fs.closeSync(out);
  const bytes = fs.statSync(file).size;
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  const list = new OptOutJournal(file);
  const loadMs = performance.now() - started;
  gc();
  const held = process.memoryUsage().heapUsed - before;
  if (!list.check('15550000007')) throw new Error('7c: the list did not load');
  await list.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const perNumber = held / count;
  rows.push({
    measure: `7c. Memory of an opt-out list of ${count.toLocaleString('en')} numbers, loaded from its journal file`,
    ours: `heap +${fixed(held / 2 ** 20, 1)} MiB (${fixed(perNumber)} B/number), read in ${fixed(loadMs)} ms`,
    reference: `${fixed(bytes / 2 ** 20, 1)} MiB file`,
    ratio: '',
    target: '≤ 256 B/number',
    met: perNumber <= 256 ? 'yes' : 'no',
  });
}

function report(seconds: number): string {
  const cpus = os.cpus();
  const table = [
    '| Measure | This package | Reference | Ratio | Target | Met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.measure} | ${r.ours} | ${r.reference} | ${r.ratio} | ${r.target} | ${r.met} |`),
  ].join('\n');
  return `# Benchmarks

Written by \`npm run bench\`${SMOKE ? ' (smoke run: tiny sizes, figures not meaningful)' : ''} on ${new Date().toISOString().slice(0, 10)}, in ${fixed(seconds)} s.

${table}

${notes.map((n) => `- ${n}`).join('\n')}

## Machine

${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fixed(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()}; Node.js ${process.version}; Node-RED ${require(`${NODE_RED_PACKAGE}/package.json`).version} (the test helper's runtime, and the real Node-RED of 5, 8 and 9).
A shared machine: figures move from run to run; the ratios, measured side by side in one run, are what to read.

## Method

Everything runs on 127.0.0.1 against the loopback Vonage API (\`dev/loopback/\`), in the bench's process.
The bench runs as users run the package: compiled JavaScript (\`dev/runBench.js\` bundles \`dev/bench.ts\`
with esbuild and runs it with plain Node.js, no TypeScript loader; the nodes are the built \`nodes/*.js\`).
Measures 1–4, 6, 7, 11 use the test helper (Node-RED's runtime in the bench's process) with its spies taken
off after each flow is loaded: they keep every call's arguments, which users' Node-RED does not. Measures 5, 8
and 9 run a real Node-RED (\`red.js\`) in a process of its own, with the package installed from its packed
tarball with the palette manager's npm flags.

1. **Send overhead**: a Send SMS node (templated Text, number normalisation, encoding, the send queue with no
   rate limit) in the real Node-RED runtime receives N msgs at once; the raw \`@vonage/server-sdk\` sends the
   same N at once. Rounds alternate, after one warm-up each; SMS/s is N over the time until the last answer.
   The ratio is the median of each Send SMS round over the SDK round right after it (medians of SMS/s shown).
   1c: measure 1's Send SMS against the same with every spend limit on (Countries GB and DE, Daily parts and
   Daily spend too large to bind, the per-recipient cap too): each SMS is checked and counted, and its money
   estimated from the Pricing API (asked once, then cached); rounds pair with the Send SMS round before.
   1b: the same with a config node on the Messages API (Basic auth) against the SDK's messages client
   (\`vonage.messages.send\`, Basic too), both to the loopback's POST /v1/messages, in rounds of their own
   after the SMS API's (a round right after the SMS API's SDK round pays for what that round left behind).
2. **Rate fidelity**: the loopback enforces R requests per rolling second per API key with status 1; Send SMS
   (rate R) gets 10×R msgs at once. Achieved rate = SMS accepted − 1 over the time between the first and last
   arrival. Throttled = status 1 answers at the loopback (the queue retries them). Lost and duplicated come
   from the texts the loopback accepted.
3. **Inbound**: an SMS in node and the tutorial's \`http in\` (GET) + \`http response\` in the same runtime, each
   wired to a node that drops the msg; 20 workers on a keep-alive agent send GET webhooks with a fresh
   \`messageId\` each, rounds alternating after one warm-up each. Latency is per request, at the client. The
   ratio is the median of each SMS in round over the http in round right after it (medians of req/s shown).
4. **Memory**: Send SMS with a rate of 1 per minute, so that every msg after the first waits in the queue;
   heap and RSS are read after two forced garbage collections, against the figures before the first msg.
   The heap is what to read: RSS also moves with what the allocator returns to the system, and can shrink.
   A waiting SMS holds: Node-RED's own part (the msg, and the send() and done() it gave the node: the
   reference column measures it with a node that only keeps them), the composed request (To, From, Text,
   encoding, parts), the queue's entry in its backlog (a plain FIFO: only a few SMS at a time are handed
   to p-queue, whose jobs and promises cost several times more), and one small object that hears the
   outcome for the msg. msg.sms is written when the outcome is known.
5. **Load**: Node-RED (\`red.js\`) started in a fresh user directory with the package installed with the palette
   manager's npm flags and in one without, alternately, until it logs "Started flows". The package's own cost
   is also measured alone: requiring and registering its six nodes in a fresh Node.js process.
6. **Shared state**: a redis-server started for the run on 127.0.0.1 (no persistence). 6a: two \`nexmobasic\`
   nodes with the same API key and Redis URL, each with its own queue and Redis connection as two instances
   would have, get 5×R msgs each at once; figures as in 2, with throttled as a share of all requests.
   6b: measure 1 with a third path, Send SMS whose config node has the Redis URL (both at a rate that never
   binds, so that both limiters work); the ratio pairs each Redis round with the memory round before it.
   6d: the send queue itself (the compiled module, over the same Redis and the shared rate limiter), N SMS
   at once with the send journal (each SMS recorded, marked as being sent, forgotten) against without it;
   rounds alternate. 6e: two real Node-RED processes (the packed package) with the same flows over the Redis;
   a burst of 250 into one at R = 30/s (the loopback enforcing R), which is killed (SIGKILL) once 20 are sent;
   the time from the kill to the last SMS the other sent, once each SMS is sent or reported (its Catch node
   posts to the bench), and how many were lost or sent twice.
   6c: measure 3 with a third SMS in, whose webhooks name the API key of a config node with the Redis URL
   (de-duplication in Redis), against the SMS in that keeps it in memory.
7. **Opt-outs**: measure 1's Send SMS for two accounts, one whose opt-out list holds 100,000 numbers (its
   journal file in the user directory, and its Redis hash) and one whose list is empty; the recipient is on
   neither, so every SMS is checked and sent. Rounds alternate; the ratio pairs each listed round with the
   empty round before it. One check alone: the median time of a \`check\` of the list, half of them for
   numbers on it.
8. **Cold burst**: right after the real Node-RED starts (no connection to the API open yet), an \`http in\`
   makes one function node send 300 msgs at once, each a different 150-character text, into Send SMS at
   R = 30/s; the loopback enforces 30/s. Figures as in 2. The event loop's longest pause: a timer due every
   millisecond in the real Node-RED (\`monitorEventLoopDelay\`), its longest delay in the half second after
   the burst (while it is composed and queued: Send SMS composes a burst 8 ms at a time); the reference, the
   same burst into a debug node, three times, the median.
9. **Memory in a real Node-RED**: the same process, with \`--expose-gc\`; a function node fills a Send SMS
   node at one SMS a minute (so all but one wait; the answer once its status shows them all queued), or a delay node in rate-limit mode at one msg a minute,
   with 50,000 msgs; a function node reads the heap after two forced collections. Redeploys (full) fail the
   waiting SMS (each through done(err)) and drop the delay node's msgs; "after a redeploy" is the heap then,
   against the heap before the fill. Both paths run once at a tenth of the size first, and are redeployed,
   so that compiled code and the runtime's one-time structures are not counted.
10. **Compose**: the compiled \`composeSms\` (the module Send SMS runs; the editor's counter is bundled from
   the same \`encoding.ts\`) renders To, From and a Text of \`{{msg.payload}}\`, normalises the numbers and
   counts a different 160-character GSM-7 text each time: one at a time (µs each), and 300 at once (ms
   until all are composed). The reference is sms-segments-calculator alone counting such a text.
11. **Latency**: one SMS at a time, msg into Send SMS to msg out (no rate limit), against the raw SDK's
   \`sms.send\`, and a bare POST of the same JSON on a keep-alive \`http.Agent\` (the floor: what any client
   must spend). The three take turns, each starting first in turn; 20 warm-up rounds; medians.
12. **Install footprint**: the packed package installed into an empty directory with the palette manager's
   npm flags (bytes and files under node_modules, packages, seconds), alone and with either Vonage client
   library beside it: \`@vonage/server-sdk\` 3.27 (what the package used before), or the scoped packages of
   its three endpoints. Each is installed once first, so that npm's cache holds it: the seconds are an
   install from the cache, not from the network.
`;
}

async function main(): Promise<void> {
  const started = performance.now();
  restHost = await api.listen();
  if (redisServerInstalled()) redis = await startRedis();
  else notes.push('The shared-state measures (6) were not taken: this machine has no redis-server (apt-get install redis-server).');
  const measures: Record<string, () => Promise<void>> = { sendOverhead, compose, latency, rateFidelity, sharedRate, sendJournal, inbound, memory, loadTime, realNodeRed, optOuts, optOutListMemory, footprint };
  for (const [name, measure] of Object.entries(measures)) if (!ONLY || ONLY.has(name)) await measure();
  await redis?.stop();
  await api.close();
  const text = report((performance.now() - started) / 1000);
  fs.writeFileSync(OUT, text);
  console.log(text.split('\n## Machine')[0]);
  console.log(`written to ${path.relative(process.cwd(), OUT) || OUT}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
