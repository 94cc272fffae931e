/**
 * When an SMS may go: the account's rate (30 requests/s by default) and, optionally, a per-sender rate
 * (1/s for a US long number, say). One interface, two implementations, chosen by the `nexmobasic`
 * config node: this file's, which keeps both rates in this Node-RED (p-queue spaces the starts, an
 * arrival window counts when requests reach Vonage), and sharedRateLimiter.ts's, which asks the shared
 * state (Redis) so that every instance together stays under them.
 */
import PQueue from 'p-queue';
import { ArrivalWindow, type ArrivalTicket } from './arrivalWindow';

/**
 * What the limiter says when an SMS's turn comes: go now (and tell the ticket when the answer came),
 * wait `laterMs` outside (a sender over its own limit, out of the way of other senders' SMS), or
 * the shared state cannot be reached. Undefined: the SMS was cancelled while it waited.
 */
export type Turn = { go: true; ticket?: ArrivalTicket } | { go: false; laterMs: number } | { go: false; stateDown: Error } | undefined;

/** The SMS that asks for its turn. */
export interface WaitingSms {
  /** Whether it is still wanted: a cancelled SMS stops waiting. */
  waiting(): boolean;
  /** The shared state answered (it may have been unreachable before). */
  reachable(): void;
  /** Its place in the line, as in `schedule`: higher first (retries 1, the flows' SMS 0, confirmations -2). */
  readonly priority: number;
}

export interface RateLimiter {
  /** Runs the job when the account's pace lets it start: higher priorities first (retries 1, confirmations -2). */
  schedule<T>(from: string, job: () => Promise<T>, priority: number): Promise<T>;
  /** How many SMS the queue hands over at once, so that the limiter always has its next batch. */
  readonly batch: number;
  /**
   * Inside a scheduled job, just before sending: whether this SMS may go now; at once when it can (no promise).
   */
  turn(from: string, sms: WaitingSms): Turn | Promise<Turn>;
  /** Lets go of every wait and timer (the queue is closing). */
  close(): void;
}

/** The share of the rate limit used: what is left absorbs network jitter. */
export const RATE_MARGIN = 0.985;

/** A sender's slot this close is waited for in place (see MemoryRateLimiter.turn). */
const SHORT_SENDER_WAIT_MS = 50;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Both rates kept in this Node-RED. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly account: PQueue;
  private readonly senders = new Map<string, PQueue>();
  /** When each sender may next send: the per-sender limit counts actual sends, not queue entries. */
  private readonly nextSlot = new Map<string, number>();
  /** Requests counted by when they arrive at Vonage, not when they start (arrivalWindow.ts). */
  private readonly arrivals: ArrivalWindow | undefined;
  readonly batch: number;

  constructor(
    ratePerSecond: number,
    private readonly perSenderPerSecond: number,
  ) {
    const pace = MemoryRateLimiter.pace(ratePerSecond);
    this.account = new PQueue(pace);
    this.arrivals = ArrivalWindow.forRate(ratePerSecond, RATE_MARGIN);
    this.batch = Math.max(16, 2 * (pace.intervalCap ?? 8));
  }

  /**
   * Requests spaced evenly; strict mode counts a rolling window, so no window ever holds more than
   * its share. Vonage counts arrivals, not starts, and the first request also pays for the
   * connection, so the spacing keeps a margin: about 15 ms a second, at any rate.
   */
  private static pace(perSecond: number): { intervalCap?: number; interval?: number; strict?: boolean } {
    if (!(perSecond > 0)) return {};
    // Batches of a tenth of the rate each tenth of a second: each start costs the event loop about a
    // millisecond, which one-at-a-time spacing pays on every request and batches pay once each.
    const batch = Math.max(1, Math.floor(perSecond / 10));
    return { intervalCap: batch, interval: (1000 * batch) / (perSecond * RATE_MARGIN), strict: true };
  }

  schedule<T>(from: string, job: () => Promise<T>, priority: number): Promise<T> {
    if (!(this.perSenderPerSecond > 0)) return this.account.add(job, { priority }) as Promise<T>;
    let perSender = this.senders.get(from);
    if (!perSender) {
      perSender = new PQueue(MemoryRateLimiter.pace(this.perSenderPerSecond));
      this.senders.set(from, perSender);
    }
    const account = this.account;
    return perSender.add(() => account.add(job, { priority }), { priority }) as Promise<T>;
  }

  turn(from: string, sms: WaitingSms): Turn | Promise<Turn> {
    // Too soon for this sender: send nothing now, and queue again when its slot comes. A few
    // milliseconds short (the sender's queue and its slot keep time apart): waited here, not by
    // queueing again, which would cost the sender a whole interval more.
    const senderWait = this.senderWait(from);
    if (senderWait > 0 && senderWait <= SHORT_SENDER_WAIT_MS) {
      return sleep(senderWait).then(() => {
        if (!sms.waiting()) return undefined;
        const again = this.senderWait(from);
        return again > 0 ? { go: false, laterMs: again } : this.arrival(sms);
      });
    }
    if (senderWait > 0) return { go: false, laterMs: senderWait };
    return this.arrival(sms);
  }

  /** A wait only after a request that arrived late (one that opened the connection). */
  private arrival(sms: WaitingSms): Turn | Promise<Turn> {
    if (!this.arrivals) return { go: true };
    const turn = this.arrivals.turn();
    const take = (ticket: ArrivalTicket): Turn => {
      if (sms.waiting()) return { go: true, ticket };
      ticket.unused();
      return undefined;
    };
    return turn instanceof Promise ? turn.then(take) : take(turn);
  }

  /**
   * How long this sender must still wait, or 0 after reserving its slot for a send now. Checked at
   * the moment of sending: a request may wait in the account queue behind other senders and leave
   * just before its successor, so spacing the queue's entries alone would not keep the sends apart.
   */
  private senderWait(from: string): number {
    if (!(this.perSenderPerSecond > 0)) return 0;
    const now = Date.now();
    const next = this.nextSlot.get(from) ?? 0;
    if (next > now) return next - now;
    this.nextSlot.set(from, now + 1000 / (this.perSenderPerSecond * RATE_MARGIN));
    return 0;
  }

  close(): void {
    // What p-queue and the arrival window still hold goes now, not when their timers would have fired.
    this.account.clear();
    for (const perSender of this.senders.values()) perSender.clear();
    this.arrivals?.close();
  }
}
