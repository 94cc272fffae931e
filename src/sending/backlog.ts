/**
 * The SMS that wait in the send queue, as little as each costs: most wait here, in a plain FIFO, and
 * only a few at a time are handed to the rate limiter, whose jobs, promises and closures cost several
 * times more (see BENCHMARKS.md, memory per waiting SMS). Opt-out confirmations wait in a lane of their
 * own, and go only when no flow's SMS waits.
 */
import type { SmsRequest } from '../sms/smsRequest';
import type { SendResponse } from '../vonage/client';
import type { SpendReport, SpendShare } from './spendGuard';

export interface SendResult {
  response: SendResponse;
  /** The message ids Vonage gave (one a part), or the Messages API's UUID. */
  ids: string[];
  /** Attempts it took, 1 when the first succeeded. */
  attempts: number;
  /** With spend guards: the price Vonage charged and what is left of today's budgets. */
  spend?: SpendReport;
}

/** An SMS that waits: all the queue keeps of it until its turn comes near. */
export interface Waiting {
  owner: string;
  /** When it was submitted: how long it may wait for the shared state counts from here. */
  since: number;
  request: SmsRequest;
  /** Told once: the error, or the result. */
  receiver: SendReceiver | undefined;
  /** Counted as waiting: in the backlog, in the rate limiter, or between retries (not while being sent). */
  waiting: boolean;
  /** Its record in the send journal (a shared state's): its id there, and what its flow gets back. */
  journal?: { id: string; about?: { msgid?: string; topic?: string | number }; stored: boolean; settled?: boolean };
  /** What it took of the spend limits, once its turn came (spendGuard.ts). */
  share?: SpendShare;
}

/**
 * Who hears an SMS's outcome: the error, or Vonage's answer (with the request it was about). An
 * object rather than a callback, so that Send SMS can keep one per msg with no closure per SMS.
 */
export interface SendReceiver {
  outcome(err: Error | undefined, result: SendResult | undefined, request: SmsRequest): void;
}

/** Tells the SMS's owner its outcome, once (a cancelled SMS may still come back from the rate limiter). */
export function settle(entry: Waiting, err: Error | undefined, result?: SendResult): void {
  const receiver = entry.receiver;
  entry.receiver = undefined;
  receiver?.outcome(err, result, entry.request);
}

/** Opt-out confirmations waiting at most, apart from the flows' SMS: the account's replylimit (60 an hour) keeps far fewer. */
export const MAX_WAITING_REPLIES = 100;

export class Backlog {
  /** How many SMS wait (see Waiting.waiting): here, in the rate limiter, or between retries. */
  count = 0;
  /** How many of them are opt-out confirmations. */
  replies = 0;
  /** The flows' SMS not yet handed on, oldest first, from `head` on. */
  private flows: Array<Waiting | undefined> = [];
  private head = 0;
  /** Opt-out confirmations not yet handed on: they never take the capacity of the flows' SMS (maxQueued). */
  private confirmations: Waiting[] = [];

  add(entry: Waiting): void {
    this.wait(entry);
    if (entry.request.confirmsOptOut) this.confirmations.push(entry);
    else this.flows.push(entry);
  }

  /** The next SMS to hand on, oldest first; a confirmation only when no flow's SMS waits here. */
  next(): Waiting | undefined {
    while (this.head < this.flows.length) {
      const entry = this.flows[this.head];
      this.flows[this.head] = undefined;
      this.head += 1;
      // Cancelled or failed while it waited here: its owner was told already.
      if (entry?.waiting) {
        this.compact();
        return entry;
      }
    }
    this.flows = [];
    this.head = 0;
    while (this.confirmations.length > 0) {
      const entry = this.confirmations.shift()!;
      if (entry.waiting) return entry;
    }
    return undefined;
  }

  private compact(): void {
    if (this.head === this.flows.length) {
      this.flows = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.flows.length) {
      this.flows = this.flows.slice(this.head);
      this.head = 0;
    }
  }

  /** Counts the SMS as waiting (again: a retry waits too). */
  wait(entry: Waiting): void {
    if (entry.waiting) return;
    entry.waiting = true;
    this.count += 1;
    if (entry.request.confirmsOptOut) this.replies += 1;
  }

  /** Takes the SMS out of the waiting count; false when it was not in it. */
  unwait(entry: Waiting): boolean {
    if (!entry.waiting) return false;
    entry.waiting = false;
    this.count -= 1;
    if (entry.request.confirmsOptOut) this.replies -= 1;
    return true;
  }

  /** Every SMS still waiting here, oldest first. */
  *waiting(): Generator<Waiting> {
    for (let i = this.head; i < this.flows.length; i += 1) {
      const entry = this.flows[i];
      if (entry?.waiting) yield entry;
    }
    for (const entry of [...this.confirmations]) if (entry.waiting) yield entry;
  }

  /** Lets go of those no longer waiting (cancelled) now, not when their turn would have come. */
  prune(): void {
    this.flows = this.flows.slice(this.head).filter((entry) => entry?.waiting);
    this.head = 0;
    this.confirmations = this.confirmations.filter((entry) => entry.waiting);
  }

  clear(): void {
    this.flows = [];
    this.head = 0;
    this.confirmations = [];
  }
}
