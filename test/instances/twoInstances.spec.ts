/**
 * Two real Node-RED processes (red.js) with the same flows and one API key, sharing a real
 * redis-server through `redisurl`, against the loopback API enforcing Vonage's 30 requests per
 * rolling second: as FlowFuse's HA mode runs them, with no sticky routing between them.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { RealNodeRed } from '../support/realNodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { until } from '../support/waitFor';

const API_KEY = 'twoinst1';
const API_SECRET = 'two-instances-secret';
const REDIS_PASSWORD = 'two-instances-redis';

function flows(restHost: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'two instances' },
    { id: 'cfg', type: 'nexmobasic', name: 'shared', resthost: restHost, rate: 30, timeout: 5, queuesize: 1000, stopreply: 'Unsubscribed.', replylimit: 5 },
    // POST /burst {"to": [...]}: one SMS to each number, through the account's queue.
    { id: 'burst', z: 'tab', type: 'http in', url: '/burst', method: 'post', wires: [['ack', 'toList']] },
    { id: 'ack', z: 'tab', type: 'http response', statusCode: '202', wires: [] },
    { id: 'toList', z: 'tab', type: 'change', rules: [{ t: 'move', p: 'payload.to', pt: 'msg', to: 'to', tot: 'msg' }], wires: [['bulk']] },
    { id: 'bulk', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: 'Shared', text: 'burst', wires: [[]] },
    // The tutorial's auto-reply, on SMS in: a short wait for parts on /sms, a long one on /sms-long.
    { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', concatwait: 2, wires: [['reply']] },
    { id: 'inlong', z: 'tab', type: 'vonage-sms-in', url: '/sms-long', concatwait: 60, wires: [['reply']] },
    // Keywords only: the account's confirmations, no auto-reply.
    { id: 'instop', z: 'tab', type: 'vonage-sms-in', url: '/sms-stop', wires: [[]] },
    { id: 'reply', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload.msisdn}}', fr: '{{msg.payload.to}}', text: 'You said {{msg.payload.text}}', wires: [[]] },
  ];
}

describe('two Node-RED instances sharing Redis', function () {
  this.timeout(120_000);
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000, ratePerSecond: 30 }]);
  let redis: RunningRedis;
  let instances: RealNodeRed[] = [];
  let startInstance: () => Promise<RealNodeRed>;

  before(async () => {
    redis = await startRedis({ password: REDIS_PASSWORD });
    const restHost = await api.listen();
    const credentials = { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: redis.url } };
    // The package as the palette manager installs it: ioredis and all, with its --engine-strict.
    startInstance = () => RealNodeRed.start({ flows: flows(restHost), credentials, palette: true });
    instances = await Promise.all([0, 1].map(() => startInstance()));
  });
  afterEach(() => api.reset());
  after(async () => {
    await Promise.all(instances.map((red) => red.stop()));
    await redis?.stop();
    await api.close();
  });

  /** The sentinels' numbers (see sentinels()): their SMS are left out of sent(). */
  const SENTINEL = /^4477009507\d\d$/;
  let sentinel = 0;
  const sent = () => api.requests.filter((r) => r.path === '/sms/json' && !SENTINEL.test(r.params.to));
  const wait = (what: string, check: () => boolean, timeoutMs = 30_000) => until(check, { what, timeoutMs, everyMs: 100 });

  async function inbound(red: RealNodeRed, params: Record<string, string>, path = '/sms'): Promise<number> {
    const res = await fetch(`${red.base}${path}?${new URLSearchParams(params)}`);
    await res.text();
    return res.status;
  }

  /**
   * One more SMS to each instance's auto-reply, awaited as their replies at the API: each instance passes
   * SMS on and queues its replies in the order they came, so any SMS it was to send before has gone first.
   */
  async function sentinels(): Promise<void> {
    const numbers = instances.map(() => `4477009507${String((sentinel += 1) % 100).padStart(2, '0')}`);
    for (const [i, red] of instances.entries()) {
      should(await inbound(red, inboundRequests({ msisdn: numbers[i], to: '447700900000', text: 'sentinel' }, { apiKey: API_KEY })[0])).equal(200);
    }
    await wait('the replies to the sentinel SMS', () => numbers.every((to) => api.requests.some((r) => r.path === '/sms/json' && r.params.to === to && r.outcome === '0')));
  }

  it('counts opt-out confirmations once for both instances: 20 STOPs, half into each, confirm 5 (replylimit)', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => inbound(instances[i % 2], inboundRequests({ msisdn: `4477009${String(60_000 + i)}`, to: '447700900000', text: 'STOP' }, { apiKey: API_KEY })[0], '/sms-stop')),
    );
    should(answers).matchEach(200);
    const confirmations = () => sent().filter((r) => r.params.text === 'Unsubscribed.' && r.outcome === '0');
    await wait('5 confirmations', () => confirmations().length >= 5);
    // Kept as a wait: once the limit is spent, no confirmation may go, and none can show the end of the
    // others' decisions (a flow's SMS would overtake a confirmation waiting in the queue). One too many would
    // be decided within moments of its STOP's answer.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    should(confirmations()).have.length(5);
  });

  it('keeps both instances together under the account rate: 150 SMS into each at once, each accepted once, few throttled', async () => {
    const numbers = (i: number) => Array.from({ length: 150 }, (_, n) => `4477009${String(i * 1000 + n).padStart(5, '0')}`);
    const answers = await Promise.all(instances.map((red, i) => fetch(`${red.base}/burst`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: numbers(i) }) })));
    should(answers.map((a) => a.status)).eql([202, 202]);
    await wait('300 SMS accepted', () => sent().filter((r) => r.outcome === '0').length >= 300, 60_000);
    await sentinels();
    const accepted = sent().filter((r) => r.outcome === '0');
    should(accepted).have.length(300);
    should(new Set(accepted.map((r) => r.params.to)).size).equal(300);
    const throttled = sent().filter((r) => r.outcome === '1').length;
    // When it fails, say where: which requests were throttled, and when each arrived (ms from the first).
    const first = sent()[0].at;
    const where = sent()
      .map((r, i) => (r.outcome === '1' ? `#${i}@${r.at - first}` : ''))
      .filter(Boolean)
      .join(' ');
    // Shared, the two stay under the limit together (each on its own drew 272 throttled answers). The
    // target, at most 1%, is a timing figure: npm run bench judges it (row 6a). A test on this shared,
    // loaded machine only bounds it, since a process descheduled between its turn and its request
    // reaches the API late (seen in CI: 6 of 306 once).
    should(throttled).be.belowOrEqual(
      15,
      `throttled: ${where}; arrivals: ${sent()
        .slice(0, 40)
        .map((r) => r.at - first)
        .join(' ')}`,
    );
    for (const red of instances) should(red.log).not.match(/\[error\]/);
  });

  it('passes a Vonage retry that reaches the other instance on once: one reply, both answered 200', async () => {
    const [params] = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'only once' }, { apiKey: API_KEY });
    should(await inbound(instances[0], params)).equal(200);
    should(await inbound(instances[1], params)).equal(200);
    await wait('the reply', () => sent().length >= 1);
    await sentinels();
    should(sent().map((r) => r.params.text)).eql(['You said only once']);
  });

  it('honours a STOP received by one instance on the other, from its next SMS on', async () => {
    const [stop] = inboundRequests({ msisdn: '447700900007', to: '447700900000', text: 'STOP' }, { apiKey: API_KEY });
    should(await inbound(instances[0], stop)).equal(200);
    const res = await fetch(`${instances[1].base}/burst`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: ['447700900007', '447700900008'] }) });
    should(res.status).equal(202);
    // Each instance's refusal is in its log: the SMS to 447700900007 and the auto-reply to the STOP are done with.
    const refused = /not sent to \+447700900007: this number opted out/;
    await wait('the SMS to 447700900008, and both refusals', () => sent().length >= 1 && instances.every((red) => refused.test(red.log)));
    // The auto-reply to the STOP ("You said STOP") was refused too: only the other number got an SMS.
    should(sent().map((r) => r.params.to)).eql(['447700900008']);
    should(instances[1].log).match(/not sent to \+447700900007: this number opted out/);
    should(instances[0].log).match(/not sent to \+447700900007: this number opted out/);
  });

  it('joins a long SMS whose parts 1 and 3 reach one instance and part 2 the other: one reply, with the whole text', async () => {
    const text = 'one long message whose parts go to both instances';
    const parts = inboundRequests({ msisdn: '447700900003', to: '447700900000', text }, { partLength: 20, apiKey: API_KEY });
    should(parts).have.length(3);
    should(await inbound(instances[0], parts[0])).equal(200);
    should(await inbound(instances[1], parts[1])).equal(200);
    should(await inbound(instances[0], parts[2])).equal(200);
    await wait('the reply', () => sent().length >= 1);
    await sentinels();
    should(sent().map((r) => r.params.text)).eql([`You said ${text}`]);
  });

  it('ends the wait for a missing part once, on the other instance, after the one that took the parts stopped', async () => {
    const parts = inboundRequests({ msisdn: '447700900004', to: '447700900000', text: 'first part, ' + 'lost part, ' + 'last part' }, { partLength: 11, apiKey: API_KEY });
    should(parts).have.length(3);
    should(await inbound(instances[0], parts[0])).equal(200);
    should(await inbound(instances[0], parts[2])).equal(200);
    await instances[0].stop();
    await wait('the reply', () => sent().length >= 1, 10_000);
    // Then another SMS with a part missing, to the instance still running: it looks for ended waits every
    // 0.5 s and hands them on oldest first, so once this one's reply has come, a second hand-over of the
    // first would have come too.
    const [later] = inboundRequests({ msisdn: '447700950799', to: '447700900000', text: 'only the first part comes' }, { partLength: 11, apiKey: API_KEY });
    should(await inbound(instances[1], later)).equal(200);
    await wait('the reply to the later SMS', () => api.requests.some((r) => r.params.to === '447700950799'));
    should(sent().map((r) => r.params.text)).eql(['You said first part, last part']);
    should(instances[1].log).match(/a long SMS from 447700900004 went on without part\(s\) 2/);
    instances[0] = await startInstance();
  });

  it('keeps the parts it answered 200 across a restart of the instance that took them', async () => {
    const text = 'parts that outlive the instance that received them';
    const parts = inboundRequests({ msisdn: '447700900005', to: '447700900000', text }, { partLength: 20, apiKey: API_KEY });
    should(await inbound(instances[0], parts[0], '/sms-long')).equal(200);
    should(await inbound(instances[0], parts[1], '/sms-long')).equal(200);
    await instances[0].stop();
    instances[0] = await startInstance();
    should(await inbound(instances[0], parts[2], '/sms-long')).equal(200);
    await wait('the reply', () => sent().length >= 1);
    await sentinels();
    should(sent().map((r) => r.params.text)).eql([`You said ${text}`]);
  });

  it('answers 503 while Redis is down, so that Vonage retries, and takes the retry once Redis is back', async () => {
    const [params] = inboundRequests({ msisdn: '447700900002', to: '447700900000', text: 'after the outage' }, { apiKey: API_KEY });
    await redis.kill();
    should(await inbound(instances[0], params)).equal(503);
    await wait('the outage in the log', () => /shared state \(Redis at 127\.0\.0\.1:\d+\/0\) is unreachable/.test(instances[0].log));
    should(instances[0].log).not.containEql(REDIS_PASSWORD);
    await redis.restart();
    // Both reconnect by themselves.
    await wait('both instances back on Redis', () => instances.every((red) => /shared state in Redis at 127\.0\.0\.1:\d+\/0 is reachable/.test(red.log.split('unreachable').pop()!)), 15_000);
    should(await inbound(instances[1], params)).equal(200);
    should(await inbound(instances[0], params)).equal(200);
    await wait('the reply', () => sent().length >= 1);
    await sentinels();
    should(sent().map((r) => r.params.text)).eql(['You said after the outage']);
    for (const red of instances) should(red.log).not.containEql(REDIS_PASSWORD);
  });

  it('keeps SMS waiting while Redis is down, and sends each once when it is back', async () => {
    await redis.kill();
    const to = ['447700900601', '447700900602'];
    const answers = await Promise.all(instances.map((red, i) => fetch(`${red.base}/burst`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: [to[i]] }) })));
    should(answers.map((a) => a.status)).eql([202, 202]);
    // Kept as a wait: nothing may be sent while Redis stays away, and nothing marks that the SMS still wait
    // (their queues ask Redis again every 0.5 s, quietly).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Nothing goes outside the shared limit: while Redis is away, nothing is sent at all.
    should(sent()).be.empty();
    await redis.restart();
    await wait('both SMS at the API', () => sent().length >= 2, 10_000);
    await sentinels();
    should(
      sent()
        .map((r) => r.params.to)
        .sort(),
    ).eql(to);
    for (const red of instances) should(red.log).not.containEql(REDIS_PASSWORD);
  });
});
