/**
 * The send journal in Redis: each instance's waiting SMS in a hash of its own, under a lease it renews
 * while it lives. An instance whose lease ran out (killed, frozen, cut off from Redis) is taken over by
 * the first live instance that looks: the SMS of the Send SMS nodes it also has move to its own journal
 * (it sends them), those being sent are handed back as maybe sent (never sent again), and the dead
 * instance is marked taken, so that if it was only frozen it sends none of what it lost when it wakes.
 *
 * Keys, under the account's prefix: `journals` (the instances that have one), `lease:<instance>`,
 * `journal:<instance>` (entry id → JSON), `sending:<instance>` (ids whose request may be written),
 * `taken:<instance>`. Every key has a TTL, and a journal holds at most what its queue may hold.
 * The scripts reach keys they compute (all under the account's `{API key}` hash tag, so on one slot).
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { TakenOverError, type JournalEntry, type SendJournal, type TakenOver } from './accountState';

/** An instance that has not renewed its lease for this long is taken over. */
export const LEASE_MS = 10_000;
/** How long the ids of SMS sent or failed are gathered before they are forgotten in one round trip. */
const REMOVE_EVERY_MS = 20;
/** A journal (a dead instance's, whose SMS no live instance can take) is dropped this long after its last change. */
const KEEP_MS = 86_400_000;

/**
 * KEYS: journals, lease, taken, journal, sending. ARGV: instance, lease ms, keep ms, then id, JSON, '1' when
 * it is being sent ('' else), for each SMS. Returns 1, or -1 taken over.
 */
const ADD = `
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
for i = 4, #ARGV, 3 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[5], ARGV[i])
    redis.call('PEXPIRE', KEYS[5], ARGV[3])
  end
end
redis.call('PEXPIRE', KEYS[4], ARGV[3])
return 1
`;

/** KEYS: taken, sending. ARGV: keep ms, then ids. Returns 1, or -1 taken over. */
const SENDING = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for i = 2, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: journals, lease, taken, journal, sending. ARGV: instance, lease ms, keep ms, then ids to forget.
 * Returns 1 when the instance was not known (Redis lost it), 0 kept, -1 taken over.
 */
const RENEW = `
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
for i = 4, #ARGV do
  redis.call('HDEL', KEYS[4], ARGV[i])
  redis.call('SREM', KEYS[5], ARGV[i])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
redis.call('PEXPIRE', KEYS[5], ARGV[3])
return redis.call('SADD', KEYS[1], ARGV[1])
`;

/**
 * KEYS: journals. ARGV: prefix, instance, most to take, taken ms, keep ms, then the Send SMS node ids it has.
 * Returns { waiting JSON…, in flight JSON… }.
 */
const TAKE_OVER = `
local p, me, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', p .. 'taken:' .. me) == 1 then return { {}, {} } end
local owners = {}
for i = 6, #ARGV do owners[ARGV[i]] = true end
local mine = p .. 'journal:' .. me
local waiting, inflight = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= me and redis.call('EXISTS', p .. 'lease:' .. id) == 0 then
    local journal, sending, moved = p .. 'journal:' .. id, p .. 'sending:' .. id, p .. 'moved:' .. id
    redis.call('SET', p .. 'taken:' .. id, me, 'PX', ARGV[4])
    local all = redis.call('HGETALL', journal)
    for k = 1, #all, 2 do
      local field, value = all[k], all[k + 1]
      local ok, entry = pcall(cjson.decode, value)
      if not ok or type(entry) ~= 'table' then
        redis.call('HDEL', journal, field)
      elseif owners[entry.o] then
        if redis.call('SISMEMBER', sending, field) == 1 then
          table.insert(inflight, value)
          redis.call('HDEL', journal, field)
          redis.call('HSET', moved, field, me)
        elseif #waiting < max then
          table.insert(waiting, value)
          redis.call('HSET', mine, field, value)
          redis.call('HDEL', journal, field)
          redis.call('HSET', moved, field, me)
        end
        redis.call('PEXPIRE', moved, ARGV[4])
      end
    end
    if redis.call('HLEN', journal) == 0 then
      redis.call('DEL', journal, sending)
      redis.call('SREM', KEYS[1], id)
    end
  end
end
if #waiting > 0 then redis.call('PEXPIRE', mine, ARGV[5]) end
return { waiting, inflight }
`;

/**
 * KEYS: journals. ARGV: prefix, old instance, new instance, lease ms, keep ms, then the ids it holds.
 * Returns { the ids still in its journal (now the new instance's), the ids another instance took over }.
 */
const REJOIN = `
local p = ARGV[1]
local old, new = p .. 'journal:' .. ARGV[2], p .. 'journal:' .. ARGV[3]
local kept, moved = {}, {}
for i = 6, #ARGV do
  if redis.call('HEXISTS', old, ARGV[i]) == 1 then table.insert(kept, ARGV[i])
  elseif redis.call('HEXISTS', p .. 'moved:' .. ARGV[2], ARGV[i]) == 1 then table.insert(moved, ARGV[i]) end
end
if redis.call('EXISTS', old) == 1 then
  redis.call('RENAME', old, new)
  redis.call('PEXPIRE', new, ARGV[5])
end
-- The marks of what it kept go with it: one being sent stays so.
if redis.call('EXISTS', p .. 'sending:' .. ARGV[2]) == 1 then
  redis.call('RENAME', p .. 'sending:' .. ARGV[2], p .. 'sending:' .. ARGV[3])
  redis.call('PEXPIRE', p .. 'sending:' .. ARGV[3], ARGV[5])
end
redis.call('SREM', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[1], ARGV[3])
redis.call('SET', p .. 'lease:' .. ARGV[3], '1', 'PX', ARGV[4])
return { kept, moved }
`;

/**
 * KEYS: journals, lease, journal, sending. ARGV: instance, then the ids sent or failed not yet forgotten.
 * The lease goes; an empty journal too. One that still holds SMS (taken over while this instance stopped)
 * is left for another instance to take over.
 */
const LEAVE = `
for i = 2, #ARGV do
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('SREM', KEYS[4], ARGV[i])
end
redis.call('DEL', KEYS[2])
if redis.call('HLEN', KEYS[3]) > 0 then return 0 end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`;

type JournalRedis = Redis & {
  vonageSmsJournalAdd(journals: string, lease: string, taken: string, journal: string, sending: string, ...args: Array<string | number>): Promise<number>;
  vonageSmsJournalSending(taken: string, sending: string, ...args: Array<string | number>): Promise<number>;
  vonageSmsJournalRenew(journals: string, lease: string, taken: string, journal: string, sending: string, ...args: Array<string | number>): Promise<number>;
  vonageSmsJournalTakeOver(journals: string, ...args: Array<string | number>): Promise<[string[], string[]]>;
  vonageSmsJournalRejoin(journals: string, ...args: Array<string | number>): Promise<[string[], string[]]>;
  vonageSmsJournalLeave(journals: string, lease: string, journal: string, sending: string, instance: string, ...ids: string[]): Promise<number>;
};

export function defineJournalCommands(redis: Redis): void {
  redis.defineCommand('vonageSmsJournalAdd', { numberOfKeys: 5, lua: ADD });
  redis.defineCommand('vonageSmsJournalSending', { numberOfKeys: 2, lua: SENDING });
  redis.defineCommand('vonageSmsJournalRenew', { numberOfKeys: 5, lua: RENEW });
  redis.defineCommand('vonageSmsJournalTakeOver', { numberOfKeys: 1, lua: TAKE_OVER });
  redis.defineCommand('vonageSmsJournalRejoin', { numberOfKeys: 1, lua: REJOIN });
  redis.defineCommand('vonageSmsJournalLeave', { numberOfKeys: 4, lua: LEAVE });
}

/** The entry as stored: short names, only what sending and the flow need. */
interface StoredEntry {
  i: string;
  o: string;
  r: JournalEntry['request'];
  m?: string;
  t?: string | number;
}

function stored(entry: JournalEntry): string {
  const value: StoredEntry = { i: entry.id, o: entry.owner, r: entry.request };
  if (entry.msgid !== undefined) value.m = entry.msgid;
  if (entry.topic !== undefined) value.t = entry.topic;
  return JSON.stringify(value);
}

/** An entry read back, or undefined when it is not one this package wrote. */
function entryOf(json: string): JournalEntry | undefined {
  try {
    const value = JSON.parse(json) as StoredEntry;
    const r = value?.r;
    if (typeof value.i !== 'string' || typeof value.o !== 'string' || !r || typeof r.to !== 'string' || typeof r.from !== 'string' || typeof r.text !== 'string') return undefined;
    return { id: value.i, owner: value.o, request: r, msgid: typeof value.m === 'string' ? value.m : undefined, topic: typeof value.t === 'string' || typeof value.t === 'number' ? value.t : undefined };
  } catch {
    return undefined;
  }
}

/** Calls made in one tick, run together: one round trip for a burst. */
class Batched<T> {
  private items: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> | undefined;

  constructor(private readonly run: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.items) {
        this.items = [];
        process.nextTick(() => this.flush());
      }
      this.items.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const items = this.items ?? [];
    this.items = undefined;
    this.run(items.map((i) => i.item)).then(
      () => items.forEach((i) => i.resolve()),
      (err) => items.forEach((i) => i.reject(err)),
    );
  }
}

export class RedisSendJournal implements SendJournal {
  private instance = randomUUID();
  /** Ids sent or failed whose removal has not reached Redis yet: removed at the next renewal. */
  private readonly forgotten = new Set<string>();
  private readonly adds: Batched<{ entry: JournalEntry; sending: boolean }>;
  private readonly marks: Batched<string>;
  private removing: string[] | undefined;

  /** @param command runs a Redis call, turning its failure into a SharedStateError. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly command: <T>(run: () => Promise<T>) => Promise<T>,
  ) {
    defineJournalCommands(redis);
    this.adds = new Batched((adds) =>
      this.command(() =>
        this.r.vonageSmsJournalAdd(
          this.key('journals'),
          this.key('lease'),
          this.key('taken'),
          this.key('journal'),
          this.key('sending'),
          this.instance,
          LEASE_MS,
          KEEP_MS,
          ...adds.flatMap(({ entry, sending }) => [entry.id, stored(entry), sending ? '1' : '']),
        ),
      ).then((result) => this.taken(result)),
    );
    this.marks = new Batched((ids) => this.command(() => this.r.vonageSmsJournalSending(this.key('taken'), this.key('sending'), KEEP_MS, ...ids)).then((result) => this.taken(result)));
  }

  private get r(): JournalRedis {
    return this.redis as JournalRedis;
  }

  /** This instance's key of a kind; the account's own (`journals`) has no instance. */
  private key(kind: 'journals' | 'lease' | 'taken' | 'journal' | 'sending'): string {
    return kind === 'journals' ? `${this.prefix}journals` : `${this.prefix}${kind}:${this.instance}`;
  }

  private taken(result: number): void {
    if (result === -1) throw new TakenOverError('another Node-RED instance took over the SMS of this one: it had not renewed its lease in Redis for ' + LEASE_MS / 1000 + ' s');
  }

  add(entry: JournalEntry, sending = false): Promise<void> {
    this.forgotten.delete(entry.id);
    return this.adds.add({ entry, sending });
  }

  unmark(id: string): void {
    const instance = this.instance;
    this.command(() => this.redis.srem(`${this.prefix}sending:${instance}`, id)).catch(() => undefined);
  }

  sending(id: string): Promise<void> {
    return this.marks.add(id);
  }

  remove(id: string): void {
    this.forgotten.add(id);
    if (this.removing) {
      this.removing.push(id);
      return;
    }
    this.removing = [id];
    // Gathered for a few milliseconds, not a tick: answers come one a tick, and a round trip for each would
    // cost more than the send (BENCHMARKS.md, 6d). An SMS forgotten late was marked as being sent, or has
    // failed: taken over in that moment, the first is reported as maybe sent, the second sent after all.
    setTimeout(() => {
      const ids = this.removing ?? [];
      this.removing = undefined;
      const instance = this.instance;
      const pipeline = this.redis
        .pipeline()
        .hdel(this.key('journal'), ...ids)
        .srem(this.key('sending'), ...ids);
      this.command(() => pipeline.exec()).then(
        (results) => {
          // Still this instance's journal (not rejoined meanwhile), and every command ran.
          if (instance === this.instance && results?.every(([err]) => !err)) for (const id of ids) this.forgotten.delete(id);
        },
        () => undefined,
      );
    }, REMOVE_EVERY_MS).unref();
  }

  async renew(): Promise<'kept' | 'forgotten' | 'taken'> {
    const ids = [...this.forgotten];
    const result = await this.command(() => this.r.vonageSmsJournalRenew(this.key('journals'), this.key('lease'), this.key('taken'), this.key('journal'), this.key('sending'), this.instance, LEASE_MS, KEEP_MS, ...ids));
    if (result === -1) return 'taken';
    for (const id of ids) this.forgotten.delete(id);
    return result === 1 ? 'forgotten' : 'kept';
  }

  async takeOver(owners: string[], max: number): Promise<TakenOver> {
    if (owners.length === 0) return { waiting: [], inFlight: [] };
    const [waiting, inFlight] = await this.command(() => this.r.vonageSmsJournalTakeOver(this.key('journals'), this.prefix, this.instance, Math.max(0, Math.floor(max)), KEEP_MS, KEEP_MS, ...owners));
    const entries = (list: string[]) => list.map(entryOf).filter((e): e is JournalEntry => e !== undefined);
    return { waiting: entries(waiting), inFlight: entries(inFlight) };
  }

  async rejoin(ids: string[]): Promise<{ kept: Set<string>; moved: Set<string> }> {
    const old = this.instance;
    const next = randomUUID();
    const [kept, moved] = await this.command(() => this.r.vonageSmsJournalRejoin(this.key('journals'), this.prefix, old, next, LEASE_MS, KEEP_MS, ...ids));
    // What was forgotten but not yet removed moved with the journal: the next renewal removes it there.
    this.instance = next;
    return { kept: new Set(kept), moved: new Set(moved) };
  }

  async close(): Promise<void> {
    // What was sent or failed goes first: its removal may still be gathering (REMOVE_EVERY_MS).
    const ids = [...this.forgotten];
    await this.command(() => this.r.vonageSmsJournalLeave(this.key('journals'), this.key('lease'), this.key('journal'), this.key('sending'), this.instance, ...ids));
  }
}
