/**
 * The spend limits on two real Node-RED processes with the same flows over one real redis-server, against
 * the loopback API: one daily budget for both (6 and 6 SMS against 10 parts: exactly 10 sent), the
 * countries and the per-recipient cap for both. Each flow reports what became of every SMS to a collector.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { RealNodeRed } from '../support/realNodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { until } from '../support/waitFor';
import { startCollector, type Collector } from '../support/collector';

const API_KEY = 'spend001';
const API_SECRET = 'spend-suite-secret';

interface Event {
  event: 'sent' | 'failed';
  to: string;
  error?: string;
  budgetLeft?: { parts?: number };
}

function flows(restHost: string, collector: string): unknown[] {
  const report = (event: 'sent' | 'failed') => `msg.payload = { event: '${event}', to: msg.sms && msg.sms.to, error: msg.error && msg.error.message, budgetLeft: msg.sms && msg.sms.budgetLeft }; return msg;`;
  return [
    { id: 'tab', type: 'tab', label: 'spend' },
    { id: 'cfg', type: 'nexmobasic', name: 'guarded', resthost: restHost, rate: 30, timeout: 5, countries: 'GB', dailyparts: '10', perrecipient: '3' },
    { id: 'burst', z: 'tab', type: 'http in', url: '/burst', method: 'post', wires: [['ack', 'toList']] },
    { id: 'ack', z: 'tab', type: 'http response', statusCode: '202', wires: [] },
    { id: 'toList', z: 'tab', type: 'change', rules: [{ t: 'move', p: 'payload.to', pt: 'msg', to: 'to', tot: 'msg' }], wires: [['bulk']] },
    { id: 'bulk', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: 'Spend', text: 'guarded', wires: [['sent']] },
    { id: 'sent', z: 'tab', type: 'function', func: report('sent'), outputs: 1, wires: [['post']] },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['bulk'], uncaught: false, wires: [['failed']] },
    { id: 'failed', z: 'tab', type: 'function', func: report('failed'), outputs: 1, wires: [['post']] },
    { id: 'post', z: 'tab', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: collector, wires: [[]] },
  ];
}

describe('spend limits on two Node-RED instances sharing Redis', function () {
  this.timeout(120_000);
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000 }]);
  let redis: RunningRedis;
  let instances: RealNodeRed[] = [];
  let events: Event[] = [];
  let collector: Collector<Event>;

  before(async () => {
    redis = await startRedis();
    const restHost = await api.listen();
    collector = await startCollector<Event>();
    events = collector.events;
    const url = collector.url;
    const credentials = { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: redis.url } };
    instances = await Promise.all([0, 1].map(() => RealNodeRed.start({ flows: flows(restHost, url), credentials })));
  });
  after(async () => {
    await Promise.all(instances.map((red) => red.stop()));
    await redis?.stop();
    await api.close();
    collector?.close();
  });

  const burst = async (red: RealNodeRed, to: string[]) => {
    const res = await fetch(`${red.base}/burst`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to }) });
    should(res.status).equal(202);
  };

  it('shares one daily budget: 6 and 6 SMS at once against 10 parts send exactly 10; the countries and the cap hold on both', async () => {
    const numbers = Array.from({ length: 12 }, (_, i) => `4477009003${String(i).padStart(2, '0')}`);
    await Promise.all([burst(instances[0], numbers.slice(0, 6)), burst(instances[1], numbers.slice(6))]);
    await until(() => events.length >= 12, { what: 'every SMS reported', timeoutMs: 30_000 });
    should(api.sent).have.length(10);
    const refused = events.filter((e) => e.event === 'failed');
    should(refused).have.length(2);
    for (const e of refused) should(e.error).match(/the daily budget of 10 SMS parts is used up \(this SMS has 1\); it resets at midnight UTC/);
    should(events.filter((e) => e.event === 'sent').map((e) => e.budgetLeft?.parts)).matchEach((left: number) => left >= 0 && left < 10);
    // The config node of an instance that refused one warns (each refused whichever SMS found the budget spent).
    should(instances.filter((red) => /\[nexmobasic:guarded\] the SMS to \d+ was not sent: the daily budget of 10 SMS parts is used up/.test(red.log)).length).be.above(0);
    // Outside the countries: refused before any budget, naming the country.
    events.length = 0;
    await burst(instances[1], ['33612345678']);
    await until(() => events.length >= 1, { what: 'the SMS to France reported' });
    should(events[0].error).match(/it goes to FR, and this account sends only to GB/);
    should(api.sent).have.length(10);
  });
});
