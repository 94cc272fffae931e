/**
 * The spend ledger in Redis (see SpendLedger), one for every instance with the API key: the day's parts
 * and money in a hash a day (`spend:<day>`, kept two days), the SMS to each number in the last hour in a
 * sorted set a number (`to:<fingerprint>`, kept an hour, at most the cap). The SMS that ask in one tick ask
 * in one script run, each answered as if alone; what is given back goes in one round trip every 20 ms.
 */
import type Redis from 'ioredis';
import { fingerprint } from '../sms/recentIds';
import { SharedStateError, type DayUsage, type SpendAnswer, type SpendAsk, type SpendLedger } from './accountState';
import { PerTick } from './perTick';

const HOUR_MS = 3_600_000;
const DAY_KEPT_MS = 2 * 86_400_000;
const ADJUST_EVERY_MS = 20;

/**
 * KEYS: the day's hash. ARGV: (unused), a unique member prefix, then for each SMS: its recipient's key, the
 * cap, parts, money, the most parts and money (-1: none). Returns one code an SMS: 0 counted, 1 the
 * recipient's cap, 2 the parts budget, 3 the money budget.
 */
const TAKE = `
-- Redis's clock, not an instance's: instances whose clocks differ keep one hour.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local answers = {}
for i = 3, #ARGV, 6 do
  local key, cap, parts, money = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local maxParts, maxMoney = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local answer = 0
  if cap > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ${HOUR_MS})
    if redis.call('ZCARD', key) >= cap then answer = 1 end
  end
  if answer == 0 and maxParts >= 0 and tonumber(redis.call('HGET', KEYS[1], 'parts') or '0') + parts > maxParts then answer = 2 end
  if answer == 0 and maxMoney >= 0 and tonumber(redis.call('HGET', KEYS[1], 'money') or '0') + money > maxMoney + 1e-9 then answer = 3 end
  if answer == 0 then
    redis.call('HINCRBY', KEYS[1], 'parts', parts)
    if money ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'money', money) end
    redis.call('PEXPIRE', KEYS[1], ${DAY_KEPT_MS})
    if cap > 0 then
      redis.call('ZADD', key, now, ARGV[2] .. ':' .. i)
      redis.call('PEXPIRE', key, ${HOUR_MS})
    end
  end
  table.insert(answers, answer)
end
return answers
`;

const ANSWERS: SpendAnswer[] = ['ok', 'recipient', 'parts', 'money'];

type SpendRedis = Redis & { vonageSmsSpend(day: string, now: number, member: string, ...asks: Array<string | number>): Promise<number[]> };

export class RedisSpendLedger implements SpendLedger {
  private readonly asks: PerTick<SpendAsk, SpendAnswer>;
  private counter = 0;
  private changes: Array<{ day: string; parts: number; money: number; recipient?: string }> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly command: <T>(run: () => Promise<T>) => Promise<T>,
    private readonly instance: string,
  ) {
    redis.defineCommand('vonageSmsSpend', { numberOfKeys: 1, lua: TAKE });
    this.asks = new PerTick(100, (day, asks) => {
      this.counter += 1;
      const args = asks.flatMap((a) => [this.recipientKey(a.recipient), a.cap, a.parts, a.money, a.maxParts ?? -1, a.maxMoney ?? -1]);
      return this.command(() => (this.redis as SpendRedis).vonageSmsSpend(`${this.prefix}spend:${day}`, 0, `${this.instance}:${this.counter}`, ...args)).then((codes) => {
        const answers = asks.map((_, i) => ANSWERS[Number(codes[i])]);
        // An answer this script does not give: nothing is let through on it (the SMS waits, as for an outage).
        if (answers.some((a) => a === undefined)) throw new SharedStateError(`the shared state answered the spend ledger with ${JSON.stringify(codes).slice(0, 80)}`);
        return answers;
      });
    });
  }

  private recipientKey(number: string): string {
    return `${this.prefix}to:${fingerprint(number)}`;
  }

  take(ask: SpendAsk): Promise<SpendAnswer> {
    return this.asks.ask(ask.day, ask);
  }

  adjust(change: { day: string; parts: number; money: number; recipient?: string }): void {
    if (this.changes) {
      this.changes.push(change);
      return;
    }
    this.changes = [change];
    setTimeout(() => {
      const changes = this.changes ?? [];
      this.changes = undefined;
      const pipeline = this.redis.pipeline();
      for (const c of changes) {
        const key = `${this.prefix}spend:${c.day}`;
        if (c.parts !== 0) pipeline.hincrby(key, 'parts', c.parts);
        if (c.money !== 0) pipeline.hincrbyfloat(key, 'money', c.money);
        if (c.recipient !== undefined) pipeline.zpopmax(this.recipientKey(c.recipient));
      }
      // A correction that cannot be made now (Redis away) errs on the safe side: what was taken stays counted.
      this.command(() => pipeline.exec()).catch(() => undefined);
    }, ADJUST_EVERY_MS).unref();
  }

  async usage(day: string): Promise<DayUsage> {
    const [parts, money] = await this.command(() => this.redis.hmget(`${this.prefix}spend:${day}`, 'parts', 'money'));
    return { parts: Math.max(0, Number(parts ?? 0)), money: Math.max(0, Number(money ?? 0)) };
  }
}
