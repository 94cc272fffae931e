/**
 * One send queue per Vonage account: every Send SMS node that shares a `nexmobasic` goes through
 * it, so together they stay under the account's rate (30 requests/s by default) and, optionally,
 * a per-sender rate (1/s for a US long number, say). Rates are kept by p-queue.
 *
 * Transient refusals are retried here: throttling (status 1) after the wait Vonage names, status
 * 5 and 10, HTTP 5xx and connections refused before sending, with exponential backoff and jitter.
 * A request that may have reached Vonage (a timeout or a connection lost after sending) is never
 * retried blindly, and permanent statuses fail at once. Nothing queued disappears silently: a
 * full queue refuses at once, and closing fails every request still waiting.
 */
import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import { SharedStateError, type SendSlots } from '../state/accountState';
import { SmsSendError, type SmsApiResponse, type SmsRequest } from '../vonage/smsClient';
import type { MessagesApiResponse } from '../vonage/messagesClient';
import { OptedOutError, type OptOutEntry } from '../sms/optOut';
import { ArrivalWindow, type ArrivalTicket } from './arrivalWindow';

/** What Vonage answers an accepted SMS: the SMS API's response, or the Messages API's 202 body. */
export type SendResponse = SmsApiResponse | MessagesApiResponse;

/** The account's client, for whichever API it speaks. */
export interface SmsSender {
  send(request: SmsRequest): Promise<SendResponse>;
}

export interface SendQueueOptions {
  /** Requests per second for the whole account; 0 for no limit. */
  ratePerSecond: number;
  /** Requests per second from one sender (From); 0 for no limit. */
  perSenderPerSecond: number;
  /** Requests waiting at most; one more is refused at once. */
  maxQueued: number;
  /** Retries after a transient failure (throttling has its own, larger allowance). */
  maxRetries: number;
  /** First backoff; doubled on each retry, with ±50% jitter. */
  backoffMs: number;
  /**
   * Send slots kept by a shared state (Redis), which then keeps both rates for every instance;
   * without, this queue keeps them itself.
   */
  slots?: SendSlots;
  /** How long an SMS may wait for an unreachable shared state before it fails, unsent. */
  stateWaitMs?: number;
  /**
   * The account's opt-out list, when honoured: each SMS is checked when its turn comes, before each
   * attempt, so a STOP that arrives while it waits still stops it. Rejects with SharedStateError.
   */
  optOuts?: { check(number: string): OptOutEntry | undefined | Promise<OptOutEntry | undefined> };
}

export const DEFAULT_QUEUE_OPTIONS: SendQueueOptions = { ratePerSecond: 30, perSenderPerSecond: 0, maxQueued: 1000, maxRetries: 3, backoffMs: 500 };

/** The share of the rate limit the queue uses: what is left absorbs network jitter. */
const RATE_MARGIN = 0.985;

/** Throttled answers are retried this many times at most: they are Vonage asking us to wait, not a fault. */
const MAX_THROTTLE_RETRIES = 20;

export class QueueError extends Error {
  constructor(message: string, readonly reason: 'full' | 'closed') {
    super(message);
    this.name = 'QueueError';
  }
}

export interface SendResult {
  response: SendResponse;
  /** Attempts it took, 1 when the first succeeded. */
  attempts: number;
}

/**
 * An SMS that waits: all the queue keeps of it until its turn comes near. Most wait in the backlog,
 * a plain FIFO of these, and only a few at a time are handed to p-queue, whose jobs, promises and
 * closures cost several times more (see BENCHMARKS.md, memory per waiting SMS).
 */
interface Waiting {
  owner: string;
  /** When it was submitted: how long it may wait for the shared state counts from here. */
  since: number;
  request: SmsRequest;
  /** Told once: the error, or the result. */
  receiver: SendReceiver | undefined;
  /** Counted as waiting: in the backlog, in p-queue, or between retries (not while being sent). */
  waiting: boolean;
}

/**
 * Who hears an SMS's outcome: the error, or Vonage's answer (with the request it was about). An
 * object rather than a callback, so that Send SMS can keep one per msg with no closure per SMS.
 */
export interface SendReceiver {
  outcome(err: Error | undefined, result: SendResult | undefined, request: SmsRequest): void;
}

/** Tells the SMS's owner its outcome, once (a cancelled SMS may still come back from p-queue). */
function settle(entry: Waiting, err: Error | undefined, result?: SendResult): void {
  const receiver = entry.receiver;
  entry.receiver = undefined;
  receiver?.outcome(err, result, entry.request);
}

/** A sender's slot this close is waited for in place (see attempt). */
const SHORT_SENDER_WAIT_MS = 50;

/** How often an SMS asks an unreachable shared state again. */
const STATE_RETRY_MS = 500;

/**
 * A shared turn older than this when it reaches the SMS is not used: the shared log's margin (about
 * 40 ms a second, see redisAccountState.ts) must also absorb the way from here to Vonage.
 */
const STALE_TURN_MS = 15;
/** Late turns an SMS lets go at most before it takes one anyway. */
const MAX_STALE_TURNS = 3;
/** Opt-out confirmations waiting at most, apart from the flows' SMS: the account's replylimit (60 an hour) keeps far fewer. */
const MAX_WAITING_REPLIES = 100;

/** The wait Vonage names in a status 1 answer: "please wait [ 978 ] and retry". */
export function throttleWaitMs(errorText: string | undefined): number | undefined {
  const match = /wait\s*\[\s*(\d+)\s*\]/i.exec(errorText ?? '');
  return match ? Number(match[1]) : undefined;
}

type Verdict = { retry: false } | { retry: true; waitMs: number; throttled: boolean };

export class SendQueue extends EventEmitter {
  private readonly account: PQueue;
  private readonly senders = new Map<string, PQueue>();
  /** When each sender may next send: the per-sender limit counts actual sends, not queue entries. */
  private readonly nextSlot = new Map<string, number>();
  /** How many SMS wait (see Waiting.waiting). */
  private waitingCount = 0;
  /** SMS handed from the backlog to p-queue and not yet settled: with the backlog, every SMS that may wait. */
  private readonly active = new Set<Waiting>();
  /** Waiting SMS not yet handed to p-queue, oldest first, from `backlogHead` on. */
  private backlog: Array<Waiting | undefined> = [];
  private backlogHead = 0;
  /**
   * Opt-out confirmations waiting, apart: they never take the capacity of the flows' SMS (maxQueued), and
   * go to p-queue only when no flow's SMS waits in the backlog, behind them there too.
   */
  private replies: Waiting[] = [];
  private repliesWaiting = 0;
  /** SMS handed from the backlog to p-queue whose job has not started yet. */
  private fed = 0;
  /** How many may be handed over at once: enough that p-queue always has its next batch. */
  private readonly feedLimit: number;
  private inFlight = 0;
  private closed = false;
  /** False while the shared state cannot be reached and SMS wait for it. */
  private stateUp = true;
  /** How long asking the shared state for a turn usually takes (a moving average), in ms. */
  private turnMs: number | undefined;
  /** In memory: requests counted by when they arrive at Vonage, not when they start (arrivalWindow.ts). */
  private readonly arrivals: ArrivalWindow | undefined;

  constructor(private readonly sender: SmsSender, readonly options: SendQueueOptions = DEFAULT_QUEUE_OPTIONS) {
    super();
    // With shared slots, each request asks the shared log until it is let through: the queue only
    // bounds how many ask at once (about a second's worth).
    const rate = options.slots ? { concurrency: Math.max(1, Math.ceil(options.ratePerSecond)) } : SendQueue.rate(options.ratePerSecond);
    this.account = new PQueue(rate);
    this.arrivals = options.slots ? undefined : ArrivalWindow.forRate(options.ratePerSecond, RATE_MARGIN);
    this.feedLimit = Math.max(16, 2 * ((rate as { intervalCap?: number }).intervalCap ?? (rate as { concurrency?: number }).concurrency ?? 8));
  }

  /** Whether the shared state answers (always, in memory). Emits 'state' when this changes. */
  get stateAvailable(): boolean {
    return this.stateUp;
  }

  private stateIs(up: boolean): void {
    if (this.stateUp === up) return;
    this.stateUp = up;
    this.emit('state', up);
  }

  /**
   * Requests spaced evenly; strict mode counts a rolling window, so no window ever holds more than
   * its share. Vonage counts arrivals, not starts, and the first request also pays for the
   * connection, so the spacing keeps a margin: about 15 ms a second, at any rate.
   */
  private static rate(perSecond: number): ConstructorParameters<typeof PQueue>[0] {
    if (!(perSecond > 0)) return {};
    // Batches of a tenth of the rate each tenth of a second: each start costs the event loop about a
    // millisecond, which one-at-a-time spacing pays on every request and batches pay once each.
    const batch = Math.max(1, Math.floor(perSecond / 10));
    return { intervalCap: batch, interval: (1000 * batch) / (perSecond * RATE_MARGIN), strict: true };
  }

  /** Requests waiting or being sent. */
  get depth(): number {
    return this.waitingCount + this.inFlight;
  }

  /**
   * Queues one SMS. Resolves with Vonage's answer once every part is accepted; rejects with
   * QueueError (full, closed) or SmsSendError (after any retries).
   * @param owner the Send SMS node's id, so that its requests can be cancelled when it stops.
   */
  submit(request: SmsRequest, owner: string): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => this.enqueue(request, owner, { outcome: (err, result) => (err ? reject(err) : resolve(result!)) }));
  }

  /**
   * As submit, telling the receiver, once and never before enqueue returns: a waiting SMS then costs
   * no promise (Send SMS uses this; BENCHMARKS.md has the memory per waiting SMS).
   */
  enqueue(request: SmsRequest, owner: string, receiver: SendReceiver): void {
    const refuse = (err: QueueError) => queueMicrotask(() => receiver.outcome(err, undefined, request));
    if (this.closed) return refuse(new QueueError(`the send queue is closed: the SMS to ${request.to} was not sent`, 'closed'));
    const reply = request.confirmsOptOut === true;
    if (reply ? this.repliesWaiting >= MAX_WAITING_REPLIES : this.waitingCount - this.repliesWaiting >= this.options.maxQueued) {
      const max = reply ? MAX_WAITING_REPLIES : this.options.maxQueued;
      return refuse(new QueueError(`the send queue is full (${max} ${reply ? 'opt-out confirmations' : 'SMS'} waiting): the SMS to ${request.to} was not sent`, 'full'));
    }
    const entry: Waiting = { owner, since: Date.now(), request, receiver, waiting: false };
    this.wait(entry);
    if (reply) this.replies.push(entry);
    else this.backlog.push(entry);
    this.changed();
    this.feed();
  }

  /** Hands SMS from the backlog to p-queue, oldest first, while fewer than feedLimit wait there to start. */
  private feed(): void {
    while (this.fed < this.feedLimit && this.backlogHead < this.backlog.length) {
      const entry = this.backlog[this.backlogHead];
      this.backlog[this.backlogHead] = undefined;
      this.backlogHead += 1;
      // Cancelled or failed while in the backlog: its owner was told already.
      if (entry?.waiting) this.start(entry);
    }
    // Confirmations only when no flow's SMS waits for its turn.
    while (this.fed < this.feedLimit && this.backlogHead === this.backlog.length && this.replies.length > 0) {
      const entry = this.replies.shift()!;
      if (entry.waiting) this.start(entry);
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  private start(entry: Waiting): void {
    this.fed += 1;
    this.active.add(entry);
    this.attempt(entry.request, entry, 1, 0, true).then(
      (result) => {
        this.active.delete(entry);
        settle(entry, undefined, result);
      },
      (err: Error) => {
        this.active.delete(entry);
        settle(entry, err);
      },
    );
  }

  /** Every SMS counted as waiting: the backlog's, then those handed to p-queue. */
  private *everyWaiting(): Generator<Waiting> {
    for (let i = this.backlogHead; i < this.backlog.length; i += 1) {
      const entry = this.backlog[i];
      if (entry?.waiting) yield entry;
    }
    for (const entry of [...this.replies]) if (entry.waiting) yield entry;
    for (const entry of [...this.active]) if (entry.waiting) yield entry;
  }

  private wait(entry: Waiting): void {
    if (entry.waiting) return;
    entry.waiting = true;
    this.waitingCount += 1;
    if (entry.request.confirmsOptOut) this.repliesWaiting += 1;
  }

  /** Takes the SMS out of the waiting count; false when it was not in it. */
  private unwait(entry: Waiting): boolean {
    if (!entry.waiting) return false;
    entry.waiting = false;
    this.waitingCount -= 1;
    if (entry.request.confirmsOptOut) this.repliesWaiting -= 1;
    return true;
  }

  /** Fails every request of this owner still waiting (none being sent); resolves with how many. */
  cancel(owner: string, reason: string): number {
    let count = 0;
    for (const entry of [...this.everyWaiting()]) {
      if (entry.owner !== owner) continue;
      this.unwait(entry);
      // Told after cancel returns, as a rejected promise would be: the caller's own summary comes first.
      queueMicrotask(() => settle(entry, new QueueError(reason, 'closed')));
      count += 1;
    }
    if (count) {
      // The backlog lets go of them now, not when their turn would have come.
      this.backlog = this.backlog.slice(this.backlogHead).filter((entry) => entry?.waiting);
      this.backlogHead = 0;
      this.replies = this.replies.filter((entry) => entry.waiting);
      this.changed();
    }
    return count;
  }

  /** Refuses new requests, fails every waiting one, and resolves when those being sent have finished. */
  async close(reason: string): Promise<number> {
    this.closed = true;
    let count = 0;
    for (const entry of [...this.everyWaiting()]) {
      this.unwait(entry);
      this.active.delete(entry);
      queueMicrotask(() => settle(entry, new QueueError(reason, 'closed')));
      count += 1;
    }
    this.backlog = [];
    this.backlogHead = 0;
    this.replies = [];
    // What p-queue and the arrival window still hold of them goes now, not when their timers would have
    // fired (a minute, at one SMS a minute).
    this.account.clear();
    for (const perSender of this.senders.values()) perSender.clear();
    this.arrivals?.close();
    this.changed();
    while (this.inFlight > 0) await new Promise((resolve) => this.once('depth', resolve));
    return count;
  }

  private changed(): void {
    this.emit('depth', this.depth);
  }

  private schedule<T>(from: string, job: () => Promise<T>, priority: number): Promise<T> {
    if (this.options.perSenderPerSecond > 0 && !this.options.slots) {
      let perSender = this.senders.get(from);
      if (!perSender) {
        perSender = new PQueue(SendQueue.rate(this.options.perSenderPerSecond));
        this.senders.set(from, perSender);
      }
      const account = this.account;
      return perSender.add(() => account.add(job, { priority }), { priority }) as Promise<T>;
    }
    return this.account.add(job, { priority }) as Promise<T>;
  }

  /** @param fed this is the SMS's first turn, handed over from the backlog: its start makes room for the next. */
  private async attempt(request: SmsRequest, entry: Waiting, attempt: number, throttles: number, fed = false): Promise<SendResult> {
    const outcome = await this.schedule(
      request.from,
      async () => {
        if (fed) {
          fed = false;
          this.fed -= 1;
          // After this one has gone: p-queue may start the next ones at once, and they must not overtake it.
          queueMicrotask(() => this.feed());
        }
        // Cancelled or closed while it waited: its owner was told already.
        if (!entry.waiting) return undefined;
        let ticket: ArrivalTicket | undefined;
        // The confirmation of an opt-out goes to a number on the list, by design.
        if (this.options.optOuts && !request.confirmsOptOut) {
          let optedOut: OptOutEntry | undefined;
          try {
            // In memory the answer comes at once: no await, so the SMS leaves the waiting count as it did.
            const found = this.options.optOuts.check(request.to);
            optedOut = found instanceof Promise ? await found : found;
          } catch (err) {
            if (err instanceof SharedStateError) return { stateDown: err };
            this.unwait(entry);
            this.changed();
            return { error: err as Error };
          }
          if (!entry.waiting) return undefined;
          if (optedOut) {
            this.unwait(entry);
            this.changed();
            return { optedOut };
          }
        }
        if (this.options.slots) {
          // Until the shared log lets it through: each wait ends when a slot of the window frees.
          let stale = 0;
          for (;;) {
            let turn: { waitMs: number; senderBound: boolean };
            const asked = performance.now();
            try {
              turn = await this.options.slots.take(request.from);
            } catch (err) {
              return { stateDown: err as Error };
            }
            this.stateIs(true);
            // A turn that came back late (a busy event loop, a Redis that stalled) may be too old to use:
            // Vonage counts the request when it arrives, and the shared log counted it when it was let
            // through. It stays counted, which errs on the safe side, and this SMS asks again (a few times
            // at most). Late means much slower than usual: a Redis far away is slow every time, not late.
            const took = performance.now() - asked;
            const usual = this.turnMs;
            this.turnMs = usual === undefined ? took : usual * 0.9 + took * 0.1;
            if (turn.waitMs <= 0 && stale < MAX_STALE_TURNS && took > Math.max(STALE_TURN_MS, 3 * (usual ?? took))) {
              stale += 1;
              continue;
            }
            if (turn.waitMs <= 0) break;
            // A sender over its own limit waits outside, out of the way of other senders' SMS.
            if (turn.senderBound) return { senderWait: turn.waitMs };
            await new Promise((resolve) => setTimeout(resolve, turn.waitMs));
            if (!entry.waiting) return undefined;
          }
        } else {
          // Too soon for this sender: send nothing now, and queue again when its slot comes.
          let senderWait = this.senderWait(request.from);
          // A few milliseconds short (the sender's queue and its slot keep time apart): waited here, not by
          // queueing again, which would cost the sender a whole interval more.
          if (senderWait > 0 && senderWait <= SHORT_SENDER_WAIT_MS) {
            await new Promise((resolve) => setTimeout(resolve, senderWait));
            if (!entry.waiting) return undefined;
            senderWait = this.senderWait(request.from);
          }
          if (senderWait > 0) return { senderWait };
          if (this.arrivals) {
            // A wait only after a request that arrived late (one that opened the connection).
            const turn = this.arrivals.turn();
            ticket = turn instanceof Promise ? await turn : turn;
            if (!entry.waiting) {
              ticket.unused();
              return undefined;
            }
          }
        }
        this.unwait(entry);
        this.inFlight += 1;
        this.changed();
        const startedAt = performance.now();
        try {
          return { response: await this.sender.send(request) };
        } catch (err) {
          return { error: err as Error };
        } finally {
          ticket?.answered(startedAt);
          this.inFlight -= 1;
          this.changed();
        }
      },
      // Retries go ahead of new requests, and opt-out confirmations behind the flows' SMS.
      (attempt > 1 ? 1 : 0) - (request.confirmsOptOut ? 2 : 0),
    );
    if (outcome && 'senderWait' in outcome) {
      await new Promise((resolve) => setTimeout(resolve, outcome.senderWait));
      if (!entry.waiting) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
      return this.attempt(request, entry, attempt, throttles);
    }
    if (outcome && 'stateDown' in outcome && outcome.stateDown) {
      // The shared state keeps the rate for every instance: without it, nothing is sent. The SMS
      // waits (still counted as queued) and asks again, until it has waited the config node's timeout.
      this.stateIs(false);
      const waited = Date.now() - entry.since;
      const limit = this.options.stateWaitMs ?? 10_000;
      if (waited + STATE_RETRY_MS > limit) {
        if (this.unwait(entry)) this.changed();
        throw new SharedStateError(`${outcome.stateDown.message}: the SMS to ${request.to} was not sent (it waited ${Math.round(waited / 1000)} s)`);
      }
      await new Promise((resolve) => setTimeout(resolve, STATE_RETRY_MS));
      if (!entry.waiting) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
      return this.attempt(request, entry, attempt, throttles);
    }
    if (!outcome) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
    if ('optedOut' in outcome && outcome.optedOut) throw new OptedOutError(outcome.optedOut);
    if ('response' in outcome && outcome.response) return { response: outcome.response, attempts: attempt };

    const error = (outcome as { error: Error }).error;
    const verdict = this.judge(error, attempt, throttles);
    if (!verdict.retry || this.closed) throw error;
    // Waiting for its retry, it counts as queued: a stop or a cancel fails it like any other.
    this.wait(entry);
    this.changed();
    await new Promise((resolve) => setTimeout(resolve, verdict.waitMs));
    if (!entry.waiting) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
    return this.attempt(request, entry, attempt + 1, throttles + (verdict.throttled ? 1 : 0));
  }

  /**
   * How long this sender must still wait, or 0 after reserving its slot for a send now. Checked at
   * the moment of sending: a request may wait in the account queue behind other senders and leave
   * just before its successor, so spacing the queue's entries alone would not keep the sends apart.
   */
  private senderWait(from: string): number {
    if (!(this.options.perSenderPerSecond > 0)) return 0;
    const now = Date.now();
    const next = this.nextSlot.get(from) ?? 0;
    if (next > now) return next - now;
    this.nextSlot.set(from, now + 1000 / (this.options.perSenderPerSecond * RATE_MARGIN));
    return 0;
  }

  /** Whether a failure is worth another try, and after how long. */
  private judge(error: Error, attempt: number, throttles: number): Verdict {
    if (!(error instanceof SmsSendError)) return { retry: false };
    const backoff = () => {
      const base = this.options.backoffMs * 2 ** (attempt - 1 - throttles);
      return Math.round(base * (0.5 + Math.random()));
    };
    const transientRetries = attempt - 1 - throttles;
    // Only when no part was accepted: retrying a half-accepted long SMS would send its parts twice.
    const noneAccepted = error.kind === 'status' && !error.mayHaveBeenSent;
    if (noneAccepted && error.status === '1') {
      if (throttles >= MAX_THROTTLE_RETRIES) return { retry: false };
      const named = throttleWaitMs(error.response?.messages.find((m) => m.status === '1')?.['error-text']);
      return { retry: true, waitMs: named ?? backoff(), throttled: true };
    }
    // The Messages API's throttling: HTTP 429, retried after its Retry-After like status 1.
    if (error.kind === 'http' && error.status === '429') {
      if (throttles >= MAX_THROTTLE_RETRIES) return { retry: false };
      return { retry: true, waitMs: error.retryAfterMs ?? backoff(), throttled: true };
    }
    if (transientRetries >= this.options.maxRetries) return { retry: false };
    if (noneAccepted && (error.status === '5' || error.status === '10')) return { retry: true, waitMs: backoff(), throttled: false };
    // HTTP 5xx: the only HTTP errors the client marks as possibly sent; Vonage documents them as transient.
    if (error.kind === 'http' && error.mayHaveBeenSent) return { retry: true, waitMs: backoff(), throttled: false };
    if (error.kind === 'connection' && !error.mayHaveBeenSent) return { retry: true, waitMs: backoff(), throttled: false };
    return { retry: false };
  }
}
