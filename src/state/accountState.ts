/**
 * The state an account's nodes keep between requests: which webhooks were already passed on, and
 * when the next SMS may be sent. One interface, two implementations, chosen by the `nexmobasic`
 * config node: in memory (memoryAccountState.ts: this Node-RED alone), or in Redis (redisAccountState.ts), shared by every Node-RED
 * instance and every config node with the same API key. The nodes do not know which one they have.
 */
import type { EventEmitter } from 'node:events';
import type { AssembledSms, InboundParams } from '../sms/longSms';
import type { OptOutEntry, OptOutSource } from '../sms/optOut';
import type { SmsRequest } from '../sms/smsRequest';

/** A shared-state command that takes longer than this (ms) is reported as slow. */
export const SLOW_COMMAND_MS = 1_000;

/** The shared state could not be read or written: nothing was done, and the caller says so. */
export class SharedStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SharedStateError';
  }
}

/** Webhook ids already passed on within a window. */
export interface RecentIdStore {
  /**
   * True when the id was seen within the window; remembers it either way. Rejects with SharedStateError,
   * after taking back a mark the failed call may still have made (as `mark` does).
   */
  seen(id: string): Promise<boolean>;
  /**
   * Marks the id as seen: resolves undefined when it was seen within the window already (a retry of
   * what was passed on), else with this request's own mark, which `forget()` takes back. Rejects with
   * SharedStateError; a mark the failed call may still have made (Redis ran it, its answer came too
   * late) is then taken back, so that the retry of the request is handled.
   */
  mark(id: string): Promise<RecentIdMark | undefined>;
}

/** One request's mark of an id. */
export interface RecentIdMark {
  /**
   * Takes the mark back, so that a retry of a request that could not be handled is handled: only this
   * request's own mark, never one that an earlier, successful delivery of the same id made.
   */
  forget(): Promise<void>;
}

/**
 * How many of something may happen in a rolling hour (opt-out confirmations): counted across instances
 * in the shared state.
 */
export interface HourlyAllowance {
  /** Resolves true, and counts it, when one more fits in the last hour. Rejects with SharedStateError. */
  take(): Promise<boolean>;
}

/** Send slots kept by the shared state: every instance's SMS together stay under the limits. */
export interface SendSlots {
  /**
   * Asks to send now, from this sender: resolves with waitMs 0 when the request may go and has been
   * counted against the account's (and the sender's) limit, or else the milliseconds to wait before
   * asking again, and whether the sender's own limit is what holds it back. Rejects with SharedStateError.
   */
  take(from: string): Promise<{ waitMs: number; senderBound: boolean }>;
}

/** Joins the parts of long inbound SMS, and hands each joined (or, after the wait, incomplete) SMS on once. */
export interface LongSmsJoiner {
  /** Keeps a checked part; the SMS it completes goes to `emit`. Rejects with SharedStateError. */
  add(params: InboundParams): Promise<void>;
  /**
   * The node stops. In memory, what waits goes on as it is (nothing dropped silently); in shared
   * state it stays, for the wait to end on whichever instance looks first, this one after a restart.
   */
  close(): void;
}

export interface LongSmsOptions {
  waitMs: number;
  /** Messages waiting at most; beyond, the oldest goes on incomplete. */
  maxPending?: number;
  /** Characters (bytes, in Redis) of parts held at most; beyond, the oldest goes on incomplete. */
  maxChars?: number;
  /**
   * In shared state: how long (ms) a message handed to an instance waits for its confirmation that
   * it was passed on, before it is handed again (its answer was lost); 60 s unless a test shortens it
   * (to no less than twice the command timeout).
   */
  leaseMs?: number;
}

/**
 * The account's opt-out list: the numbers that must not be texted. Every method rejects with
 * SharedStateError when the shared state is unreachable, and `add` with OptOutListFullError when
 * the list holds MAX_OPT_OUTS numbers; a change resolves once it is stored (written to the file, or
 * in Redis), so that a webhook answers 200 only for what a restart will still know.
 */
export interface OptOutList {
  /** Where the list lives, for logs and errors: a file's path, or "Redis at host:port/db". */
  readonly where: string;
  /** The number's opt-out, if it has one: at once in memory (no promise per SMS), else a promise. */
  check(number: string): OptOutEntry | undefined | Promise<OptOutEntry | undefined>;
  /**
   * Records an opt-out; resolves true when the number was not on the list yet (an existing entry keeps
   * its date). `at`, a keyword's message time: nothing changes when a START recorded for the number is later.
   */
  add(number: string, source: OptOutSource, at?: string): Promise<boolean>;
  /**
   * Takes a number off; resolves true when it was on the list. `at`, a START's message time: nothing
   * changes when the number's opt-out is later, and the time is remembered (REMOVALS_KEPT_MS) so that an
   * older STOP delivered after it changes nothing either.
   */
  remove(number: string, at?: string): Promise<boolean>;
  /** Every opt-out, by number. */
  list(): Promise<OptOutEntry[]>;
  size(): Promise<number>;
}

/** What a store of recent ids is for: the webhooks of SMS in or SMS receipt, or the numbers sent a confirmation. */
export type StateScope = 'sms-in' | 'receipt' | 'reply';

/** One SMS asking the spend ledger for its share: to whom, on which day, how many parts, what it may cost. */
export interface SpendAsk {
  recipient: string;
  /** SMS to this number in any rolling hour, at most; 0: no cap. */
  cap: number;
  /** The budgets' day (YYYY-MM-DD in their time zone). */
  day: string;
  parts: number;
  /** Its estimated price; 0 when money is not budgeted. */
  money: number;
  /** The day's budgets; undefined: none. */
  maxParts?: number;
  maxMoney?: number;
}

/** Counted ('ok'), or the limit that refused it. */
export type SpendAnswer = 'ok' | 'recipient' | 'parts' | 'money';

/** What one day has used of the budgets. */
export interface DayUsage {
  parts: number;
  money: number;
}

/**
 * What the account sent today and to whom this hour, counted by every instance that shares the state:
 * each SMS takes its share before it is sent (refused whole when a limit would be passed), and gives it
 * back when it was not sent after all, or corrects it with the price Vonage charged.
 */
export interface SpendLedger {
  take(ask: SpendAsk): SpendAnswer | Promise<SpendAnswer>;
  /** Adds to the day's parts and money (negative: gives back), and gives back one SMS to the recipient. */
  adjust(change: { day: string; parts: number; money: number; recipient?: string }): void;
  /** At once in memory (no promise per SMS), else a promise. */
  usage(day: string): DayUsage | Promise<DayUsage>;
}

/** What the send journal keeps of one SMS: what sending it needs, and what its flow must get back. */
export interface JournalEntry {
  /** Unique across instances: `<instance>:<n>`. */
  id: string;
  /** The Send SMS node's id: only an instance with the same node takes the SMS over. */
  owner: string;
  /** The composed SMS, as the queue sends it (To, From, Text, type, parts…). */
  request: SmsRequest;
  /** The msg's `_msgid` and `topic`, for the msg the taking node sends on. */
  msgid?: string;
  topic?: string | number;
}

/** A dead instance's SMS, taken over: those that waited (to send), those being sent (may have been sent). */
export interface TakenOver {
  waiting: JournalEntry[];
  inFlight: JournalEntry[];
}

/** Another instance took this one's SMS over: it had not renewed its lease in time (Redis out of its reach). */
export class TakenOverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TakenOverError';
  }
}

/**
 * Every SMS an instance has accepted and not yet sent or failed, kept where other instances see it
 * (Redis), under a lease the instance renews while it lives: when it stops renewing (killed, frozen),
 * another instance with the same Send SMS node takes its SMS over. Only with a shared state.
 */
export interface SendJournal {
  /**
   * Records an SMS; resolves once it is stored; rejects with SharedStateError. `sending`: it is being sent
   * (written again after Redis lost it), and is marked so in the same step.
   */
  add(entry: JournalEntry, sending?: boolean): Promise<void>;
  /** Takes the being-sent mark off an SMS that was certainly not sent (it will be tried again). */
  unmark(id: string): void;
  /**
   * Marks an SMS as being sent, just before its request is written: if this instance dies now, the
   * SMS is reported as maybe sent, never sent again. Rejects with SharedStateError, or TakenOverError.
   */
  sending(id: string): Promise<void>;
  /** Forgets an SMS that was sent or failed; what cannot be forgotten now is forgotten at the next renewal. */
  remove(id: string): void;
  /**
   * Renews this instance's lease: 'kept'; 'forgotten' when the store had lost this instance (a Redis
   * restarted empty: the caller adds its waiting SMS again); 'taken' when another instance took it over.
   * Rejects with SharedStateError.
   */
  renew(): Promise<'kept' | 'forgotten' | 'taken'>;
  /** Takes over the SMS of the instances whose lease ran out: those of these Send SMS nodes, at most `max` waiting. */
  takeOver(owners: string[], max: number): Promise<TakenOver>;
  /**
   * After 'taken': carries on under a new lease with the SMS still in its journal; resolves with their ids
   * (`kept`), and those another instance took over (`moved`); the others never reached the journal.
   */
  rejoin(ids: string[]): Promise<{ kept: Set<string>; moved: Set<string> }>;
  /**
   * Ends the lease (a graceful stop has failed what waited, and forgotten it): an empty journal goes; one
   * that still holds SMS (taken over as this instance stopped) is left for another instance to take over.
   */
  close(): Promise<void>;
}

/**
 * Events: 'down' (with a SharedStateError) when the shared state becomes unreachable, 'up' when it
 * is back, 'slow' (with the milliseconds) for each command that took longer than SLOW_COMMAND_MS,
 * one that timed out included. The memory state never emits them.
 */
export interface AccountState extends EventEmitter {
  /** Where the state lives, for statuses and errors: "memory", "Redis at 127.0.0.1:6379/0". Never a password. */
  readonly where: string;
  /** Whether other Node-RED instances see the same state. */
  readonly shared: boolean;
  /** Whether the state can be used now. */
  readonly available: boolean;
  recentIds(scope: StateScope, windowMs: number): RecentIdStore;
  /** Shared send slots, or undefined when the send queue keeps the rate itself (in memory). */
  sendSlots(ratePerSecond: number, perSenderPerSecond: number): SendSlots | undefined;
  /** The account's spend ledger: this Node-RED's, or the shared state's. */
  spendLedger(): SpendLedger;
  /** A journal of this instance's waiting SMS, for another instance to take over; undefined in memory. */
  sendJournal(): SendJournal | undefined;
  longSms(options: LongSmsOptions, emit: (sms: AssembledSms) => void): LongSmsJoiner;
  /** At most `perHour` in any rolling hour, for this `kind`. */
  hourlyAllowance(kind: string, perHour: number): HourlyAllowance;
  /** The account's opt-out list: in a file of Node-RED's user directory, or in the shared state. */
  optOuts(): OptOutList;
  close(): Promise<void>;
}
