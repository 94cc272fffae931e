/**
 * Long inbound SMS joined in Redis: the parts of one message may reach any Node-RED instance, and
 * exactly one passes the joined SMS on, once. The wait for missing parts also ends exactly once:
 * every instance with an SMS in node looks for messages whose wait is over, and a script hands each
 * to one of them. Parts answered 200 are in Redis before the answer goes back, so they survive a
 * restart of the instance that received them. Bounded like the memory assembler: at most
 * `maxPending` messages and `maxBytes` of parts wait; beyond, the oldest goes on incomplete. A message
 * is deleted only once the instance it was handed to says it passed it on (see COMMON): an answer
 * lost to the command timeout does not lose the SMS.
 */
import type Redis from 'ioredis';
import { joinParts, partOf, type AssembledSms, type InboundParams } from '../sms/longSms';
import { fingerprint } from '../sms/recentIds';

/**
 * A message goes through three states: waiting for its parts (in the due set, until its wait ends),
 * handed on (in the handed set, until the instance that passed it on confirms, or its lease ends), and
 * gone (a small tombstone: which parts it had, so that a retried part is known for one; in the gone
 * set, trimmed by time and count). A message is handed before its answer reaches the instance: when
 * that answer is lost (a Redis that answered after the command timeout), the retry of the part hands
 * it again, or, failing that, the end of the lease does: nothing handed is lost, nothing confirmed is
 * passed on twice.
 * KEYS, for every script: the due set, the handed set, the gone set, the bytes counter (of waiting parts).
 */
const COMMON = `
local due, handed, goneSet, bytes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
-- Microseconds on Redis's clock: messages that arrive in the same millisecond keep their order.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function at(ms) return string.format('%.0f', now + tonumber(ms) * 1000) end
-- Handed on: its fields (the member first), kept until confirmed or until the lease ends.
local function hand(prefix, member, leaseMs)
  local key = prefix .. member
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', due, member)
    redis.call('ZREM', handed, member)
    return { '' }
  end
  if redis.call('HEXISTS', key, 'done') == 0 then
    local size = tonumber(redis.call('HGET', key, 'bytes') or '0')
    if tonumber(redis.call('DECRBY', bytes, size)) < 0 then redis.call('SET', bytes, 0) end
    redis.call('HSET', key, 'done', 1)
  end
  redis.call('ZREM', due, member)
  redis.call('ZADD', handed, at(leaseMs), member)
  local entry = redis.call('HGETALL', key)
  table.insert(entry, 1, member)
  return entry
end
-- Passed on: only which parts it had is kept, for goneMs, and at most goneMost messages.
local function gone(prefix, member, goneMs, goneMost)
  local key = prefix .. member
  redis.call('ZREM', due, member)
  redis.call('ZREM', handed, member)
  local parts = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 1) == 'p' then table.insert(parts, field); table.insert(parts, '') end
  end
  redis.call('DEL', key)
  if #parts == 0 then return end
  redis.call('HSET', key, 'done', 2, unpack(parts))
  redis.call('PEXPIRE', key, goneMs)
  redis.call('ZADD', goneSet, string.format('%.0f', now), member)
  redis.call('ZREMRANGEBYSCORE', goneSet, '-inf', at(-goneMs))
  local extra = redis.call('ZCARD', goneSet) - tonumber(goneMost)
  if extra > 0 then
    for _, old in ipairs(redis.call('ZRANGE', goneSet, 0, extra - 1)) do redis.call('DEL', prefix .. old) end
    redis.call('ZREMRANGEBYRANK', goneSet, 0, extra - 1)
  end
  redis.call('PEXPIRE', goneSet, goneMs)
end
`;

/**
 * KEYS: (COMMON's), the message's hash. ARGV: part, params (JSON), total, wait ms, max pending, max
 * bytes, keep ms, the message's member, the hashes' prefix, lease ms, gone ms, gone most. Returns the
 * messages that go on now: this one when complete (again, when a retry of its part finds it handed and
 * not confirmed), any oldest ones pushed out by the bounds, or a part that came after its message went
 * on, alone (member '').
 */
const ADD = `${COMMON}
local key = KEYS[5]
local out = {}
local done = tonumber(redis.call('HGET', key, 'done') or '0')
if done > 0 then
  if redis.call('HEXISTS', key, 'p' .. ARGV[1]) == 1 then
    -- A retry: of the part whose request was answered too late to pass the message on, it goes again.
    if done == 1 and redis.call('HLEN', key) - 3 >= tonumber(ARGV[3]) then table.insert(out, hand(ARGV[9], ARGV[8], ARGV[10])) end
    return out
  end
  table.insert(out, { '', 'total', ARGV[3], 'p' .. ARGV[1], ARGV[2] })
  return out
end
if redis.call('EXISTS', key) == 0 then
  while redis.call('ZCARD', due) >= tonumber(ARGV[5]) do
    table.insert(out, hand(ARGV[9], redis.call('ZRANGE', due, 0, 0)[1], ARGV[10]))
  end
  redis.call('ZADD', due, at(ARGV[4]), ARGV[8])
  redis.call('HSET', key, 'total', ARGV[3], 'bytes', 0)
end
if redis.call('HSETNX', key, 'p' .. ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', key, 'bytes', string.len(ARGV[2]))
  redis.call('INCRBY', bytes, string.len(ARGV[2]))
end
for _, k in ipairs({ due, handed, bytes, key }) do redis.call('PEXPIRE', k, ARGV[7]) end
if redis.call('HLEN', key) - 2 >= tonumber(ARGV[3]) then
  table.insert(out, hand(ARGV[9], ARGV[8], ARGV[10]))
else
  while tonumber(redis.call('GET', bytes) or '0') > tonumber(ARGV[6]) and redis.call('ZCARD', due) > 0 do
    table.insert(out, hand(ARGV[9], redis.call('ZRANGE', due, 0, 0)[1], ARGV[10]))
  end
end
-- Handed and never confirmed (an instance that stopped as it passed them on): bounded too.
while redis.call('ZCARD', handed) > tonumber(ARGV[5]) do gone(ARGV[9], redis.call('ZRANGE', handed, 0, 0)[1], ARGV[11], ARGV[12]) end
return out
`;

/**
 * KEYS: (COMMON's). ARGV: the hashes' prefix, how many at most, lease ms. Returns the messages whose
 * wait is over, and those handed whose lease is over (their instance never confirmed them).
 */
const DUE = `${COMMON}
local out = {}
for _, set in ipairs({ due, handed }) do
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[2]))) do
    table.insert(out, hand(ARGV[1], member, ARGV[3]))
  end
end
return out
`;

/** KEYS: (COMMON's). ARGV: the hashes' prefix, the member, gone ms, gone most. The message was passed on. */
const PASSED = `${COMMON}
if redis.call('HGET', ARGV[1] .. ARGV[2], 'done') == '1' then gone(ARGV[1], ARGV[2], ARGV[3], ARGV[4]) end
return 0
`;

type Fields = string[];
export type LongSmsRedis = Redis & {
  vonageSmsAddPart(...args: Array<string | number>): Promise<Fields[]>;
  vonageSmsDueParts(...args: Array<string | number>): Promise<Fields[]>;
  vonageSmsPassedParts(...args: Array<string | number>): Promise<number>;
};

export function defineLongSmsCommands(redis: Redis): void {
  redis.defineCommand('vonageSmsAddPart', { numberOfKeys: 5, lua: ADD });
  redis.defineCommand('vonageSmsDueParts', { numberOfKeys: 4, lua: DUE });
  redis.defineCommand('vonageSmsPassedParts', { numberOfKeys: 4, lua: PASSED });
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
  /** How long a message handed on waits for its confirmation before it is handed again. */
  leaseMs: number;
  maxPending: number;
  maxBytes: number;
}

/** How long a message's parts are kept at most, when no instance is there to end its wait. */
const KEEP_MS = 24 * 3600 * 1000;
/** How long a message handed on waits for its instance's confirmation before it is handed again. */
export const LEASE_MS = 60_000;
/** How long a passed-on message's tombstone is kept, so that a late retry of one of its parts is known. */
const GONE_MS = 3600 * 1000;

export class RedisLongSms {
  private readonly keys: [string, string, string, string];
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
    this.keys = [`${prefix}parts:due`, `${prefix}parts:handed`, `${prefix}parts:gone`, `${prefix}parts:bytes`];
    const every = Math.min(1000, Math.max(50, limits.waitMs / 4));
    this.timer = setInterval(() => void this.endWaits().catch(() => undefined), every);
    this.timer.unref();
  }

  /** Tombstones kept at most. */
  private get goneMost(): number {
    return Math.max(10_000, this.limits.maxPending * 10);
  }

  async add(params: InboundParams): Promise<void> {
    const { key, part, total } = partOf(params);
    const member = fingerprint(key);
    const out = await this.command(() =>
      this.redis.vonageSmsAddPart(
        ...this.keys,
        `${this.hashes}${member}`,
        part,
        JSON.stringify(params),
        total,
        this.limits.waitMs,
        this.limits.maxPending,
        this.limits.maxBytes,
        KEEP_MS + this.limits.waitMs,
        member,
        this.hashes,
        this.limits.leaseMs,
        GONE_MS,
        this.goneMost,
      ),
    );
    this.hand(out);
  }

  /** Messages whose wait is over, each handed to one instance (this one, if it asks first). */
  async endWaits(): Promise<void> {
    this.hand(await this.command(() => this.redis.vonageSmsDueParts(...this.keys, this.hashes, 100, this.limits.leaseMs)));
  }

  /** Passes each message on, then says so: until then, it is handed again (a lost answer is not a lost SMS). */
  private hand(messages: Fields[]): void {
    for (const [member, ...fields] of messages) {
      const sms = assembled(fields);
      if (sms) this.emit(sms);
      if (member) void this.command(() => this.redis.vonageSmsPassedParts(...this.keys, this.hashes, member, GONE_MS, this.goneMost)).catch(() => undefined);
    }
  }

  /** Stops looking: what waits stays in Redis, for whichever instance's look comes first. */
  close(): void {
    clearInterval(this.timer);
  }
}
