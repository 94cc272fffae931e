/**
 * The account state in Redis (or Valkey), shared by every Node-RED instance and every config node
 * with the same API key. Keys live under `vonage-sms:{<API key>}:`, each with a TTL, so nothing
 * grows without bound. Commands are never queued while Redis is away: they fail at once with a
 * SharedStateError, so that a webhook can answer 503 (Vonage retries it) and an SMS can wait.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { fingerprint, MAX_RECENT_IDS } from '../sms/recentIds';
import type { AssembledSms } from '../sms/longSms';
import {
  SharedStateError,
  SLOW_COMMAND_MS,
  type AccountState,
  type SendJournal,
  type SpendLedger,
  type HourlyAllowance,
  type LongSmsJoiner,
  type LongSmsOptions,
  type RecentIdMark,
  type RecentIdStore,
  type SendSlots,
  type StateScope,
  type OptOutList,
} from './accountState';
import { defineLongSmsCommands, LEASE_MS, RedisLongSms, type LongSmsRedis } from './redisLongSms';
import { defineOptOutCommands, RedisOptOuts } from './redisOptOuts';
import { PerTick } from './perTick';
import { RedisSendJournal } from './redisSendJournal';
import { RedisSpendLedger } from './redisSpendLedger';

/**
 * The share of the rate limit used. What is left absorbs the difference between when a request is
 * let through and when it reaches Vonage, which counts arrivals: up to ~40 ms, as when one instance's
 * first request opens its connection while another's is already warm (0.985, the memory queue's
 * margin, drew a throttled answer in about one run of two, 150 SMS from each of two instances).
 */
const RATE_MARGIN = 0.96;
/** A command that takes longer than this counts as Redis being unreachable. */
export const COMMAND_TIMEOUT_MS = 2_000;

/**
 * A rolling-window log of the account's sends (and each limited sender's), on Redis's own clock:
 * a send is let through only when the last window holds fewer than the limit and it is its turn
 * (paced evenly, one 1/limit of the window apart), and is then counted.
 * Strict in the same way as Vonage's own count of arrivals, and as the memory rate limiter (p-queue in
 * strict mode): a request that left late cannot crowd a later window, because the window counts
 * when requests were let through, not when they were planned. The window is 1/RATE_MARGIN long,
 * so that requests may reach the API up to ~40 ms apart from when they were let through.
 * KEYS: the account's log, the sender's log, the account's pace, the sender's pace. ARGV: account limit, sender limit (0: none),
 * window in microseconds, a unique member prefix, how many SMS ask (of this sender, at once). Returns one
 * answer an SMS, in turn, as if each had asked alone: 0 when let through, else microseconds to wait,
 * negative when it is the sender's limit that holds the send back.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[3])
local function waitFor(log, pace, limit)
  if limit <= 0 then return 0 end
  local step = window / limit
  local wait = 0
  -- Paced (GCRA): each send moves the theoretical time on by one step, and may come half a step
  -- early. A late send does not make the next ones hurry, and there are no bursts, which would
  -- reach the API spread by their own latency and crowd the next window.
  local tat = tonumber(redis.call('GET', pace) or '0')
  -- Early by half a step, or by a millisecond at rates above 500/s, whose steps are shorter than the
  -- timers an early SMS would wait on before asking again.
  wait = math.max(wait, tat - math.max(step / 2, 1000) - now)
  -- Strict: never more than the limit let through within one window.
  redis.call('ZREMRANGEBYSCORE', log, '-inf', string.format('%.0f', now - window))
  if redis.call('ZCARD', log) >= limit then
    local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
  if wait > 0 then return math.max(1, wait) end
  return 0
end
local limits = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
local keep = math.ceil(window / 1000) * 2 + 1000
local function takeOne(member)
  local accountWait = waitFor(KEYS[1], KEYS[3], limits[1])
  local senderWait = waitFor(KEYS[2], KEYS[4], limits[2])
  -- Negative: the sender's own turn is what has not come (its SMS wait apart, not in the account's way).
  if senderWait > 0 and senderWait >= accountWait then return -senderWait end
  if accountWait > 0 then return accountWait end
  for i, limit in ipairs(limits) do
    if limit > 0 then
      redis.call('ZADD', KEYS[i], string.format('%.0f', now), member)
      redis.call('PEXPIRE', KEYS[i], keep)
      local tat = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
      redis.call('SET', KEYS[i + 2], string.format('%.0f', math.max(tat, now) + window / limit), 'PX', keep)
    end
  end
  return 0
end
local answers = {}
for n = 1, tonumber(ARGV[5]) do answers[n] = takeOne(ARGV[4] .. ':' .. n) end
return answers
`;

/** SMS that ask for their turns in one call, at most (one script run holds Redis up for the others). */
const TAKE_BATCH = 100;

/** Whether a credential value is a Redis URL this package can use. */
export function isRedisUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') && parsed.hostname !== '';
  } catch {
    return false;
  }
}

/** "Redis at host:port/db": where, never who or with which password. */
export function describeRedis(url: string): string {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '') || '0';
  return `Redis at ${parsed.hostname}:${parsed.port || '6379'}/${db}${parsed.protocol === 'rediss:' ? ' (TLS)' : ''}`;
}

/**
 * KEYS: the sorted set of ids, the sorted set of marks (`fingerprint:token`, each mark's own).
 * ARGV: fingerprint, now (ms), window (ms), most ids, the caller's token, how long a mark is kept (ms),
 * most marks.
 * Returns 1 when the id was seen within the window, else 0 after keeping it, and this caller's mark
 * (and dropping what is past the window or the bound, from both sets).
 */
const SEEN = `
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) > now - window then return 1 end
local function keep(key, member, ms, most)
  redis.call('ZADD', key, now, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
  local extra = redis.call('ZCARD', key) - tonumber(most)
  if extra > 0 then redis.call('ZREMRANGEBYRANK', key, 0, extra - 1) end
  redis.call('PEXPIRE', key, ms)
end
keep(KEYS[1], ARGV[1], window, ARGV[4])
keep(KEYS[2], ARGV[1] .. ':' .. ARGV[5], math.min(window, tonumber(ARGV[6])), ARGV[7])
return 0
`;

/**
 * Takes a mark back, only when it is this caller's own. KEYS: the ids, the marks. ARGV: fingerprint,
 * token. Returns 1 when it was taken back.
 */
const UNSEE = `
if redis.call('ZREM', KEYS[2], ARGV[1] .. ':' .. ARGV[2]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

/**
 * How long, and how many, marks' tokens are kept for their take-back, which follows at once (on the
 * same connection, after the mark) or, when the connection was lost, once it is back: far fewer than
 * the ids themselves, so that a flood of unique ids costs little more than the ids (issue 20).
 */
const MARK_KEEP_MS = 3_600_000;
const MAX_MARKS = 10_000;
/** Take-backs kept at most while Redis is away (each a few bytes; past this the oldest is dropped). */
const MAX_PENDING_TAKE_BACKS = 10_000;

/** KEYS: the sorted set of what was allowed. ARGV: now (ms), window (ms), most, a unique member. Returns 1 allowed, 0 not. */
const ALLOW = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

const HOUR_MS = 3_600_000;

type TakingRedis = LongSmsRedis & {
  vonageSmsSeen(key: string, marks: string, id: string, now: number, windowMs: number, max: number, token: string, markKeepMs: number, maxMarks: number): Promise<number>;
  vonageSmsUnsee(key: string, marks: string, id: string, token: string): Promise<number>;
  vonageSmsAllow(key: string, now: number, windowMs: number, max: number, member: string): Promise<number>;
  vonageSmsTake(account: string, sender: string, accountPace: string, senderPace: string, accountLimit: number, senderLimit: number, windowMicros: number, member: string, count: number): Promise<number[]>;
};

export class RedisAccountState extends EventEmitter implements AccountState {
  readonly where: string;
  readonly shared = true;
  private readonly redis: TakingRedis;
  private readonly prefix: string;
  /** 'connecting' until the first answer or failure; 'down' is reported once an outage. */
  private condition: 'connecting' | 'up' | 'down' = 'connecting';
  private closed = false;
  /** Shared by every request that comes before the first connection. */
  private firstConnection: Promise<void> | undefined;
  /** Why the connection last failed: what a command refused while disconnected reports. */
  private lastError: Error | undefined;

  constructor(url: string, apiKey: string) {
    super();
    this.where = describeRedis(url);
    // Every SMS in, SMS receipt and send queue of the account listens for 'up' and 'down': many, by design.
    this.setMaxListeners(0);
    this.prefix = `vonage-sms:{${apiKey}}:`;
    // Loaded on first use: a Node-RED without a Shared state never pays for the client.
    const RedisClient = (require('ioredis') as { default: typeof Redis }).default;
    this.redis = new RedisClient(url, {
      // RESP2, as ioredis 5 spoke: ioredis 6 asks for RESP3 by default, which this package does not use (no
      // push messages, no client-side caching), and which some Redis-compatible servers and proxies refuse.
      // The scripts' replies are then the shapes they were written and tested for.
      protocol: 2,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: COMMAND_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      // Try again for as long as the node lives: Redis may come back at any time.
      retryStrategy: (times) => (this.closed ? null : Math.min(100 * times, 1000)),
      // No reconnection storm on a READONLY replica: it fails like any other command.
      reconnectOnError: () => false,
    }) as TakingRedis;
    this.redis.defineCommand('vonageSmsTake', { numberOfKeys: 4, lua: TAKE });
    this.redis.defineCommand('vonageSmsSeen', { numberOfKeys: 2, lua: SEEN });
    this.redis.defineCommand('vonageSmsUnsee', { numberOfKeys: 2, lua: UNSEE });
    this.redis.defineCommand('vonageSmsAllow', { numberOfKeys: 1, lua: ALLOW });
    defineLongSmsCommands(this.redis);
    defineOptOutCommands(this.redis);
    this.redis.on('ready', () => {
      // On the new connection: whatever the lost one was asked to do is done, or never will be.
      for (const takeBack of this.takeBacks.splice(0)) void takeBack();
      if (this.condition === 'up') return;
      this.condition = 'up';
      this.emit('up');
    });
    // ioredis reports every failed connection attempt as 'error': without a listener it would crash Node-RED.
    this.redis.on('error', (err: Error) => {
      this.lastError = err;
      this.wentDown(err);
    });
    this.redis.on('close', () => this.wentDown());
  }

  get available(): boolean {
    return this.condition === 'up';
  }

  private wentDown(err?: Error): void {
    if (this.condition === 'down' || this.closed) return;
    this.condition = 'down';
    this.emit('down', this.failure(err));
  }

  /** The error a caller reports: where Redis is and what went wrong, without the URL's password. */
  private failure(err?: unknown): SharedStateError {
    // ioredis refuses commands while disconnected with words of its own ("Stream isn't writeable…"):
    // the connection's own failure (ECONNREFUSED, WRONGPASS…) says more.
    const offline = err instanceof Error && /enableOfflineQueue|Connection is closed/.test(err.message);
    const cause = offline ? (this.lastError ?? new Error('not connected')) : err;
    const reason = cause instanceof Error ? (cause as NodeJS.ErrnoException).code || cause.message : 'connection closed';
    return new SharedStateError(`the shared state (${this.where}) is unreachable (${reason.replace(/redis:\/\/[^@\s]*@/gi, 'redis://')})`);
  }

  /** Resolves once the first connection is made or has failed (at most the command timeout). */
  private connected(): Promise<void> {
    this.firstConnection ??= new Promise<void>((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        this.off('up', settle);
        this.off('down', settle);
        resolve();
      };
      const timer = setTimeout(settle, COMMAND_TIMEOUT_MS);
      this.once('up', settle);
      this.once('down', settle);
    });
    return this.firstConnection;
  }

  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new SharedStateError(`the shared state (${this.where}) is closed`);
    // Just deployed: a request that comes before the first connection waits for it, rather than fail.
    if (this.condition === 'connecting') await this.connected();
    const started = performance.now();
    try {
      return await run();
    } catch (err) {
      throw this.failure(err);
    } finally {
      // A Redis that answers, but late, fails nothing until the timeout: said here (one timed out counts too).
      const took = performance.now() - started;
      if (took > SLOW_COMMAND_MS) this.emit('slow', took);
    }
  }

  /** Take-backs whose connection was lost: run on the next one. */
  private readonly takeBacks: Array<() => Promise<void>> = [];

  /**
   * One sorted set an account and kind of webhook (id fingerprint → when seen), trimmed as it grows to
   * the window and to MAX_RECENT_IDS, the oldest first: a flood of unique ids costs at most ~11 MB of
   * Redis an account and kind, and shortens the window rather than fill Redis.
   */
  recentIds(scope: StateScope, windowMs: number): RecentIdStore {
    const window = Math.max(1, Math.round(windowMs));
    const key = `${this.prefix}seen:${scope}`;
    const marks = `${this.prefix}seen:${scope}:marks`;
    // Only this mark, made with this token: never one an earlier, successful delivery of the id made.
    const takeBack = (id: string, token: string): Promise<void> =>
      this.redis.vonageSmsUnsee(key, marks, id, token).then(
        () => undefined,
        (err: Error) => {
          // Timed out: it is queued behind the mark on the same connection, and runs after it all the same.
          // Refused, the connection lost: it runs on the next one.
          if (/timed out/i.test(err.message) || this.closed) return;
          if (this.takeBacks.length >= MAX_PENDING_TAKE_BACKS) this.takeBacks.shift();
          this.takeBacks.push(() => takeBack(id, token));
        },
      );
    const mark = async (id: string): Promise<RecentIdMark | undefined> => {
      const print = fingerprint(id);
      // 64 random bits: it only has to tell this request's mark of this id from another request's.
      const token = randomBytes(8).toString('base64url');
      let marked: number;
      try {
        marked = await this.command(() => this.redis.vonageSmsSeen(key, marks, print, Date.now(), window, MAX_RECENT_IDS, token, MARK_KEEP_MS, MAX_MARKS));
      } catch (err) {
        // Failed, or only its answer did (Redis ran it late): the take-back follows it on the same connection.
        if (!this.closed) void takeBack(print, token);
        throw err;
      }
      return marked === 1 ? undefined : { forget: () => this.command(() => takeBack(print, token)) };
    };
    return {
      seen: async (id) => (await mark(id)) === undefined,
      mark,
    };
  }

  hourlyAllowance(kind: string, perHour: number): HourlyAllowance {
    const key = `${this.prefix}allowance:${kind}`;
    return {
      take: () => this.command(async () => (await this.redis.vonageSmsAllow(key, Date.now(), HOUR_MS, perHour, `${Date.now()}-${randomUUID()}`)) === 1),
    };
  }

  sendSlots(ratePerSecond: number, perSenderPerSecond: number): SendSlots | undefined {
    // Limits per window of one second; a fractional rate (0.5/s) becomes one per 2 s.
    const perWindow = (perSecond: number) => (perSecond >= 1 ? { limit: Math.floor(perSecond), seconds: Math.floor(perSecond) / perSecond } : { limit: 1, seconds: 1 / perSecond });
    const account = ratePerSecond > 0 ? perWindow(ratePerSecond) : undefined;
    const sender = perSenderPerSecond > 0 ? perWindow(perSenderPerSecond) : undefined;
    // One window for both keys: the longer of the two, each limit scaled to it.
    const seconds = Math.max(account?.seconds ?? 1, sender?.seconds ?? 1);
    const limitIn = (w?: { limit: number; seconds: number }) => (w ? Math.max(1, Math.floor((w.limit * seconds) / w.seconds)) : 0);
    const windowMicros = Math.ceil((seconds * 1_000_000) / RATE_MARGIN);
    let counter = 0;
    const instance = randomUUID();
    // An account sends from a few senders: each one's key is hashed once (a bounded few are kept).
    const senderKeys = new Map<string, string>();
    const keyOf = (from: string) => {
      let key = senderKeys.get(from);
      if (key === undefined) {
        if (senderKeys.size >= 1000) senderKeys.clear();
        key = fingerprint(from);
        senderKeys.set(from, key);
      }
      return key;
    };
    // The SMS of one sender that ask in the same tick (a burst) ask in one call, each answered as if alone.
    const turns = new PerTick<string, { waitMs: number; senderBound: boolean }>(TAKE_BATCH, (from, askers) => {
      counter += 1;
      const who = keyOf(from);
      return this.command(() =>
        this.redis.vonageSmsTake(
          `${this.prefix}sent:account`,
          `${this.prefix}sent:sender:${who}`,
          `${this.prefix}pace:account`,
          `${this.prefix}pace:sender:${who}`,
          limitIn(account),
          limitIn(sender),
          windowMicros,
          `${instance}:${counter}`,
          askers.length,
        ),
      ).then((waits) => askers.map((_, i) => ({ waitMs: Math.abs(Number(waits[i])) / 1000, senderBound: Number(waits[i]) < 0 })));
    });
    return { take: (from) => turns.ask(from, from) };
  }

  private ledger: SpendLedger | undefined;

  /** One for the account: every config node and instance with the API key counts in the same ledger. */
  spendLedger(): SpendLedger {
    this.ledger ??= new RedisSpendLedger(this.redis, this.prefix, (run) => this.command(run), randomUUID());
    return this.ledger;
  }

  /** One journal a send queue (a config node), with a lease of its own. */
  sendJournal(): SendJournal {
    return new RedisSendJournal(this.redis, this.prefix, (run) => this.command(run));
  }

  longSms(options: LongSmsOptions, emit: (sms: AssembledSms) => void): LongSmsJoiner {
    // A lease outlasts the command timeout twice over: a message is passed on only when its answer came
    // within the timeout, and its confirmation follows at once, so it is confirmed before the lease ends.
    const joiner = new RedisLongSms(
      this.redis,
      this.prefix,
      { waitMs: options.waitMs, maxPending: options.maxPending ?? 1000, maxBytes: options.maxChars ?? 2_000_000, leaseMs: Math.max(options.leaseMs ?? LEASE_MS, 2 * COMMAND_TIMEOUT_MS) },
      emit,
      (run) => this.command(run),
    );
    return { add: (params) => joiner.add(params), close: () => joiner.close() };
  }

  private optOutList: OptOutList | undefined;

  optOuts(): OptOutList {
    this.optOutList ??= new RedisOptOuts(this.redis, this.prefix, this.where, (run) => this.command(run));
    return this.optOutList;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.condition = 'down';
    this.redis.disconnect();
  }
}
