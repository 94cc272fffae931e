/**
 * The opt-out list in the shared state: one Redis hash a account (number → "<since> <source>"),
 * read by every Node-RED instance before each send, so that a STOP received by any instance stops
 * the next SMS from all of them. It has no TTL: an opt-out lasts until the number says START. Redis
 * keeps it across its own restarts only with persistence (AOF or RDB) configured, as the README says.
 */
import type Redis from 'ioredis';
import { isOptOutSource, MAX_OPT_OUTS, OptOutListFullError, type OptOutEntry, type OptOutSource } from '../sms/optOut';
import type { OptOutList } from './accountState';

/** KEYS: the hash. ARGV: number, value, the most numbers. Returns 1 added, 0 already there, -1 full. */
const ADD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

type OptOutRedis = Redis & { vonageSmsOptOut(key: string, number: string, value: string, max: number): Promise<number> };

export function defineOptOutCommands(redis: Redis): void {
  redis.defineCommand('vonageSmsOptOut', { numberOfKeys: 1, lua: ADD });
}

function entryOf(number: string, value: string | null): OptOutEntry | undefined {
  if (value === null) return undefined;
  const [since, source] = value.split(' ');
  return { number, since, source: isOptOutSource(source) ? source : 'list' };
}

/** Checks asked together go to Redis in one HMGET of at most this many numbers. */
const CHECK_BATCH = 1000;

interface Asked {
  number: string;
  resolve(entry: OptOutEntry | undefined): void;
  reject(err: unknown): void;
}

export class RedisOptOuts implements OptOutList {
  private readonly key: string;
  /** Checks asked since the last HMGET went out: they go in the next, on the next tick. */
  private asked: Asked[] | undefined;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly where: string,
    /** Runs a command, turning any failure into a SharedStateError. */
    private readonly command: <T>(run: () => Promise<T>) => Promise<T>,
    private readonly maxNumbers = MAX_OPT_OUTS,
  ) {
    this.key = `${prefix}optouts`;
  }

  /**
   * Every SMS is checked when its turn comes, often many at once (a burst): the checks asked in one
   * tick share one round trip (HMGET), each answered as fresh as that read.
   */
  check(number: string): Promise<OptOutEntry | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.asked) {
        this.asked = [];
        process.nextTick(() => this.readAsked());
      }
      this.asked.push({ number, resolve, reject });
    });
  }

  private readAsked(): void {
    const asked = this.asked ?? [];
    this.asked = undefined;
    for (let i = 0; i < asked.length; i += CHECK_BATCH) {
      const batch = asked.slice(i, i + CHECK_BATCH);
      this.command(() => this.redis.hmget(this.key, ...batch.map((a) => a.number))).then(
        (values) => batch.forEach((a, k) => a.resolve(entryOf(a.number, values[k] ?? null))),
        (err) => batch.forEach((a) => a.reject(err)),
      );
    }
  }

  async add(number: string, source: OptOutSource): Promise<boolean> {
    const added = await this.command(() => (this.redis as OptOutRedis).vonageSmsOptOut(this.key, number, `${new Date().toISOString()} ${source}`, this.maxNumbers));
    if (Number(added) < 0) throw new OptOutListFullError(this.where, this.maxNumbers);
    return Number(added) === 1;
  }

  remove(number: string): Promise<boolean> {
    return this.command(async () => (await this.redis.hdel(this.key, number)) === 1);
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
