/**
 * The spend ledger in a real redis-server: one budget and one per-recipient cap for every instance with
 * the API key, counted exactly when SMS ask from two at once. The runtime and two real Node-RED processes
 * build on it (test/instances/spend.spec.ts).
 */
import should from 'should';
import { RedisAccountState } from '../../src/state/redisAccountState';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { until } from '../support/waitFor';

describe('the spend ledger in Redis', function () {
  this.timeout(30_000);
  let redis: RunningRedis;
  const states: RedisAccountState[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(states.map((s) => s.close()));
    await redis.stop();
  });

  it('counts one budget and one cap for two instances: asks at once from both are refused past the limit, exactly', async () => {
    const [a, b] = [0, 1].map(() => {
      const s = new RedisAccountState(redis.url, 'ledger01');
      states.push(s);
      return s.spendLedger();
    });
    const ask = (to: string) => ({ recipient: to, cap: 3, day: '2026-12-04', parts: 1, money: 0.05, maxParts: 10, maxMoney: 1 });
    // Six from each at once, to twelve numbers: ten counted, two refused by the parts budget.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).take(ask(`4477009001${String(i).padStart(2, '0')}`))));
    should(answers.filter((x) => x === 'ok')).have.length(10);
    should(answers.filter((x) => x === 'parts')).have.length(2);
    should(await a.usage('2026-12-04')).eql({ parts: 10, money: 0.5 });
    // Given back (not sent): room for one more; the cap of one number is shared too.
    b.adjust({ day: '2026-12-04', parts: -1, money: -0.05 });
    await until(async () => (await a.usage('2026-12-04')).parts === 9, { what: 'the part given back' });
    should(await a.take({ ...ask('447700900200'), maxParts: 100 })).equal('ok');
    should(await b.take({ ...ask('447700900200'), maxParts: 100 })).equal('ok');
    should(await a.take({ ...ask('447700900200'), maxParts: 100 })).equal('ok');
    should(await b.take({ ...ask('447700900200'), maxParts: 100 })).equal('recipient');
  });
});
