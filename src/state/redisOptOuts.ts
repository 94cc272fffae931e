/**
 * The opt-out list in the shared state: one Redis hash a account (number → "<since> <source>"),
 * read by every Node-RED instance before each send, so that a STOP received by any instance stops
 * the next SMS from all of them. It has no TTL: an opt-out lasts until the number says START. Beside it,
 * a sorted set of when keywords took numbers off (bounded in age and count), so that a retried STOP or
 * START older than the number's last change changes nothing, on whichever instance it arrives. Redis
 * keeps it across its own restarts only with persistence (AOF or RDB) configured, as the README says.
 */
import type Redis from 'ioredis';
import { changeTime, isOptOutSource, MAX_OPT_OUTS, MAX_REMOVALS, OptOutListFullError, REMOVALS_KEPT_MS, type OptOutEntry, type OptOutSource } from '../sms/optOut';
import type { OptOutList } from './accountState';
import { PerTick } from './perTick';

/**
 * KEYS: the hash, the sorted set of removals (number → ms). ARGV: number, value, the most numbers, the
 * keyword's time in ms ('' for none). Returns 1 added, 0 already there or removed in a later second, -1 full.
 * (The SMS API's message-timestamp has whole seconds: a keyword in the same second is not older.)
 */
const ADD = `
if ARGV[4] ~= '' then
  local removed = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if removed and math.floor(tonumber(removed) / 1000) > math.floor(tonumber(ARGV[4]) / 1000) then return 0 end
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: the hash, the sorted set of removals. ARGV: number, the START's time as ISO text and in ms, now in
 * ms, how long removals are kept (ms), the most kept. Returns 1 removed, 0 not on the list, -1 opted out later.
 */
const REMOVE = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value and string.sub(value, 1, 19) > string.sub(ARGV[2], 1, 19) then return -1 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[4]) - tonumber(ARGV[5]))
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
if not value then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

type OptOutRedis = Redis & {
  vonageSmsOptOut(key: string, removed: string, number: string, value: string, max: number, atMs: number | ''): Promise<number>;
  vonageSmsOptIn(key: string, removed: string, number: string, at: string, atMs: number, nowMs: number, keptMs: number, max: number): Promise<number>;
};

export function defineOptOutCommands(redis: Redis): void {
  redis.defineCommand('vonageSmsOptOut', { numberOfKeys: 2, lua: ADD });
  redis.defineCommand('vonageSmsOptIn', { numberOfKeys: 2, lua: REMOVE });
}

function entryOf(number: string, value: string | null): OptOutEntry | undefined {
  if (value === null) return undefined;
  const [since, source] = value.split(' ');
  return { number, since, source: isOptOutSource(source) ? source : 'list' };
}

/** Checks asked together go to Redis in one HMGET of at most this many numbers. */
const CHECK_BATCH = 1000;

export class RedisOptOuts implements OptOutList {
  private readonly key: string;
  private readonly removedKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly where: string,
    /** Runs a command, turning any failure into a SharedStateError. */
    private readonly command: <T>(run: () => Promise<T>) => Promise<T>,
    private readonly maxNumbers = MAX_OPT_OUTS,
  ) {
    this.key = `${prefix}optouts`;
    this.removedKey = `${prefix}optouts-removed`;
  }

  /**
   * Every SMS is checked when its turn comes, often many at once (a burst): the checks asked in one
   * tick share one round trip (HMGET), each answered as fresh as that read.
   */
  private readonly checks = new PerTick<string, OptOutEntry | undefined>(CHECK_BATCH, (_, numbers) =>
    this.command(() => this.redis.hmget(this.key, ...numbers)).then((values) => numbers.map((number, k) => entryOf(number, values[k] ?? null))),
  );

  check(number: string): Promise<OptOutEntry | undefined> {
    return this.checks.ask('', number);
  }

  async add(number: string, source: OptOutSource, at?: string): Promise<boolean> {
    const when = changeTime(at);
    const added = await this.command(() => (this.redis as OptOutRedis).vonageSmsOptOut(this.key, this.removedKey, number, `${when} ${source}`, this.maxNumbers, at === undefined ? '' : Date.parse(when)));
    if (Number(added) < 0) throw new OptOutListFullError(this.where, this.maxNumbers);
    return Number(added) === 1;
  }

  remove(number: string, at?: string): Promise<boolean> {
    if (at === undefined) return this.command(async () => (await this.redis.hdel(this.key, number)) === 1);
    const when = changeTime(at);
    return this.command(async () => (await (this.redis as OptOutRedis).vonageSmsOptIn(this.key, this.removedKey, number, when, Date.parse(when), Date.now(), REMOVALS_KEPT_MS, MAX_REMOVALS)) === 1);
  }

  /** Read in pages (HSCAN): a large list does not hold Redis up for the other instances. */
  list(): Promise<OptOutEntry[]> {
    return this.command(async () => {
      const entries = new Map<string, OptOutEntry>();
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(this.key, cursor, 'COUNT', 1000);
        for (let i = 0; i + 1 < flat.length; i += 2) entries.set(flat[i], entryOf(flat[i], flat[i + 1])!);
        cursor = next;
      } while (cursor !== '0');
      return [...entries.values()].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
    });
  }

  size(): Promise<number> {
    return this.command(() => this.redis.hlen(this.key));
  }
}
