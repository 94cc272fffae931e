/**
 * Two real Node-RED processes sharing a Redis that answers late (issue 21, part 2): each connects to
 * a real redis-server through a proxy (test/support/redisProxy.ts) that holds every answer back 2.5 s,
 * past the client's 2 s command timeout, for 10 s; Redis runs every command all the same. Every
 * webhook is retried, as Vonage does, until it is answered 200, each retry on the other instance
 * (no sticky routing): each SMS is passed on once (the tutorial's auto-reply answers it once), long
 * SMS whole, and each instance's log says Redis was slow, without its password.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { RealNodeRed } from '../support/realNodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { startRedisProxy, type RedisProxy } from '../support/redisProxy';
import { until } from '../support/waitFor';

const API_KEY = 'slowinst';
const API_SECRET = 'slow-instances-secret';
const REDIS_PASSWORD = 'slow-instances-redis';
const OUR_NUMBER = '447700900000';

function flows(restHost: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'slow Redis' },
    // A Timeout long enough for the replies to wait out the slow Redis (they wait for their send slots).
    { id: 'cfg', type: 'nexmobasic', name: 'shared', resthost: restHost, rate: 30, timeout: 60, queuesize: 1000 },
    { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', concatwait: 60, wires: [['reply']] },
    { id: 'reply', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload.msisdn}}', fr: '{{msg.payload.to}}', text: 'You said {{msg.payload.text}}', wires: [[]] },
  ];
}

describe('two Node-RED instances sharing a Redis that answers late', function () {
  this.timeout(180_000);
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000, ratePerSecond: 30 }]);
  let redis: RunningRedis;
  let proxy: RedisProxy;
  let instances: RealNodeRed[] = [];

  before(async () => {
    redis = await startRedis({ password: REDIS_PASSWORD });
    proxy = await startRedisProxy(redis.port);
    const restHost = await api.listen();
    const credentials = { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: proxy.url(REDIS_PASSWORD) } };
    instances = await Promise.all([0, 1].map(() => RealNodeRed.start({ flows: flows(restHost), credentials })));
  });
  after(async () => {
    await Promise.all(instances.map((red) => red.stop()));
    await proxy?.close();
    await redis?.stop();
    await api.close();
  });

  const replies = () => api.requests.filter((r) => r.path === '/sms/json' && r.outcome === '0');

  async function inbound(red: RealNodeRed, params: Record<string, string>): Promise<number> {
    const res = await fetch(`${red.base}/sms?${new URLSearchParams(params)}`);
    await res.text();
    return res.status;
  }

  /** Sends a webhook until it is answered 200, every half second or so, each time to the other instance. */
  async function untilAccepted(params: Record<string, string>, first: number, answers: number[]): Promise<void> {
    let turn = first;
    await until(
      async () => {
        const status = await inbound(instances[turn++ % 2], params);
        answers.push(status);
        if (status !== 200 && status !== 503) throw new Error(`${params.messageId} was answered ${status}`);
        return status === 200;
      },
      { what: `${params.messageId} to be answered 200`, everyMs: 500 + Math.floor(Math.random() * 500), timeoutMs: 90_000 },
    );
  }

  it('passes each SMS retried until answered 200 on once, long SMS whole, whichever instance each retry reaches', async () => {
    // Both instances connected and quick: one SMS into each, each replied to.
    for (const [i, red] of instances.entries()) should(await inbound(red, inboundRequests({ msisdn: `44770090060${i}`, to: OUR_NUMBER, text: 'before' }, { apiKey: API_KEY })[0])).equal(200);
    await until(() => replies().length >= 2, { what: 'the replies before', timeoutMs: 30_000 });

    const singles = Array.from({ length: 19 }, (_, i) => inboundRequests({ msisdn: `4477009007${String(i).padStart(2, '0')}`, to: OUR_NUMBER, text: `single ${i}` }, { apiKey: API_KEY })[0]);
    const longTexts = [0, 1].map((n) => `long SMS number ${n} in three parts: `.padEnd(60, String(n)));
    const longs = longTexts.map((text, n) => inboundRequests({ msisdn: `44770090080${n}`, to: OUR_NUMBER, text }, { partLength: 20, apiKey: API_KEY }));
    should(longs.every((parts) => parts.length === 3)).be.true();

    proxy.slowFor(2_500, 10_000);
    const requests = [...singles, ...longs.flat()];
    const answers = requests.map((): number[] => []);
    await Promise.all(requests.map((params, i) => untilAccepted(params, i, answers[i])));
    // Redis was slow for real: each first answer was a 503.
    should(answers.map((a) => a[0])).matchEach(503);

    // Every SMS passed on, each replied to: a reply whose turn came while Redis was slow waits and asks again,
    // so replies may go in any order.
    const numbers = [...singles.map((p) => p.msisdn), ...longs.map((parts) => parts[0].msisdn)];
    await until(() => numbers.every((n) => replies().some((r) => r.params.to === n)), { what: 'a reply to every SMS', timeoutMs: 60_000 });
    // Then one more SMS into each instance, replied to after anything still queued before it: a second
    // reply to any SMS (one passed on twice) would have gone by then.
    const after = instances.map((_, i) => inboundRequests({ msisdn: `44770090090${i}`, to: OUR_NUMBER, text: 'after' }, { apiKey: API_KEY })[0]);
    for (const [i, red] of instances.entries()) should(await inbound(red, after[i])).equal(200);
    await until(() => after.every((p) => replies().some((r) => r.params.to === p.msisdn)), { what: 'the replies after', timeoutMs: 60_000 });

    const to = (msisdn: string) => replies().filter((r) => r.params.to === msisdn);
    for (const [i, params] of singles.entries()) {
      should(to(params.msisdn).map((r) => r.params.text)).eql([`You said single ${i}`], `single SMS ${i}`);
    }
    for (const [n, text] of longTexts.entries()) should(to(`44770090080${n}`).map((r) => r.params.text)).eql([`You said ${text}`], `long SMS ${n}`);
    should(replies()).have.length(2 + singles.length + longs.length + 2);
    for (const red of instances) {
      should(red.log).match(/the shared state \(Redis at 127\.0\.0\.1:\d+\/0\) is slow: commands took up to \d+\.\d s in the last minute/);
      should(red.log).not.containEql(REDIS_PASSWORD);
    }
  });
});
