/**
 * Long inbound SMS joined in Redis: the parts of one message may reach any Node-RED instance, and
 * exactly one passes the joined SMS on, once. The wait for missing parts also ends exactly once:
 * every instance with an SMS in node looks for messages whose wait is over, and a script hands each
 * to one of them. Parts answered 200 are in Redis before the answer goes back, so they survive a
 * restart of the instance that received them. Bounded like the memory assembler: at most
 * `maxPending` messages and `maxBytes` of parts wait; beyond, the oldest goes on incomplete.
 */
import type Redis from 'ioredis';
import { joinParts, partOf, type AssembledSms, type InboundParams } from '../sms/longSms';
import { fingerprint } from '../sms/recentIds';

/** Takes a waiting message out (its hash, its place in the due set, its bytes); returns its fields. */
const CLAIM = `
local function claim(due, bytes, prefix, member)
  redis.call('ZREM', due, member)
  local key = prefix .. member
  local fields = redis.call('HGETALL', key)
  local size = tonumber(redis.call('HGET', key, 'bytes') or '0')
  redis.call('DEL', key)
  if tonumber(redis.call('DECRBY', bytes, size)) < 0 then redis.call('SET', bytes, 0) end
  return fields
end
-- Microseconds on Redis's clock: messages that arrive in the same millisecond keep their order.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * KEYS: the message's hash, the due set, the bytes counter. ARGV: part, params (JSON), total, wait
 * ms, max pending, max bytes, keep ms, the message's member, the hashes' prefix. Returns the messages
 * that go on now: this one when complete, and any oldest ones pushed out by the bounds.
 */
const ADD = `${CLAIM}
local out = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  while redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) do
    table.insert(out, claim(KEYS[2], KEYS[3], ARGV[9], redis.call('ZRANGE', KEYS[2], 0, 0)[1]))
  end
  redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(ARGV[4]) * 1000), ARGV[8])
  redis.call('HSET', KEYS[1], 'total', ARGV[3], 'bytes', 0)
end
if redis.call('HSETNX', KEYS[1], 'p' .. ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'bytes', string.len(ARGV[2]))
  redis.call('INCRBY', KEYS[3], string.len(ARGV[2]))
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
if redis.call('HLEN', KEYS[1]) - 2 >= tonumber(ARGV[3]) then
  table.insert(out, claim(KEYS[2], KEYS[3], ARGV[9], ARGV[8]))
else
  while tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(ARGV[6]) and redis.call('ZCARD', KEYS[2]) > 0 do
    table.insert(out, claim(KEYS[2], KEYS[3], ARGV[9], redis.call('ZRANGE', KEYS[2], 0, 0)[1]))
  end
end
return out
`;

/** KEYS: the due set, the bytes counter. ARGV: the hashes' prefix, how many at most. Returns the messages whose wait is over. */
const DUE = `${CLAIM}
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[2]))) do
  table.insert(out, claim(KEYS[1], KEYS[2], ARGV[1], member))
end
return out
`;

type Fields = string[];
export type LongSmsRedis = Redis & {
  vonageSmsAddPart(...args: Array<string | number>): Promise<Fields[]>;
  vonageSmsDueParts(...args: Array<string | number>): Promise<Fields[]>;
};

export function defineLongSmsCommands(redis: Redis): void {
  redis.defineCommand('vonageSmsAddPart', { numberOfKeys: 3, lua: ADD });
  redis.defineCommand('vonageSmsDueParts', { numberOfKeys: 2, lua: DUE });
}

/** A message's hash fields (total, bytes, p1, p2…) as the SMS they make. */
function assembled(fields: Fields): AssembledSms | undefined {
  let total = 0;
  const parts: Array<[number, InboundParams]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [name, value] = [fields[i], fields[i + 1]];
    if (name === 'total') total = Number(value);
    else if (/^p\d+$/.test(name)) parts.push([Number(name.slice(1)), JSON.parse(value) as InboundParams]);
  }
  return parts.length > 0 && total > 0 ? joinParts(total, parts) : undefined;
}

export interface LongSmsLimits {
  waitMs: number;
  maxPending: number;
  maxBytes: number;
}

/** How long a message's parts are kept at most, when no instance is there to end its wait. */
const KEEP_MS = 24 * 3600 * 1000;

export class RedisLongSms {
  private readonly due: string;
  private readonly bytes: string;
  private readonly hashes: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: LongSmsRedis,
    prefix: string,
    private readonly limits: LongSmsLimits,
    private readonly emit: (sms: AssembledSms) => void,
    /** Runs a Redis command, turning its failure into a SharedStateError. */
    private readonly command: <T>(run: () => Promise<T>) => Promise<T>,
  ) {
    this.hashes = `${prefix}parts:`;
    this.due = `${prefix}parts:due`;
    this.bytes = `${prefix}parts:bytes`;
    const every = Math.min(1000, Math.max(50, limits.waitMs / 4));
    this.timer = setInterval(() => void this.endWaits().catch(() => undefined), every);
    this.timer.unref();
  }

  async add(params: InboundParams): Promise<void> {
    const { key, part, total } = partOf(params);
    const member = fingerprint(key);
    const out = await this.command(() =>
      this.redis.vonageSmsAddPart(
        `${this.hashes}${member}`,
        this.due,
        this.bytes,
        part,
        JSON.stringify(params),
        total,
        this.limits.waitMs,
        this.limits.maxPending,
        this.limits.maxBytes,
        KEEP_MS + this.limits.waitMs,
        member,
        this.hashes,
      ),
    );
    this.hand(out);
  }

  /** Messages whose wait is over, each handed to one instance (this one, if it asks first). */
  async endWaits(): Promise<void> {
    this.hand(await this.command(() => this.redis.vonageSmsDueParts(this.due, this.bytes, this.hashes, 100)));
  }

  private hand(messages: Fields[]): void {
    for (const fields of messages) {
      const sms = assembled(fields);
      if (sms) this.emit(sms);
    }
  }

  /** Stops looking: what waits stays in Redis, for whichever instance's look comes first. */
  close(): void {
    clearInterval(this.timer);
  }
}
