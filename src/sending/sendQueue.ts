/**
 * One send queue per Vonage account: every Send SMS node that shares a `nexmobasic` goes through it.
 * It holds the SMS that wait, asks the account's rate limiter (rateLimiter.ts) when each may go, asks
 * the account's client (src/vonage) to send it, and acts on the outcome: sent; retried after the wait
 * Vonage names or a backoff (exponential, with jitter) when the client says it is worth another try;
 * else failed. What may have reached Vonage is never retried blindly. Nothing queued disappears
 * silently: a full queue refuses at once, and closing fails every request still waiting.
 */
import { EventEmitter } from 'node:events';
import { SharedStateError, type SendJournal, type TakenOver } from '../state/accountState';
import { maybeSent, SmsSendError, type SendOutcome, type VonageClient } from '../vonage/client';
import { SpendError, type SpendGuard } from './spendGuard';
import type { SmsRequest } from '../sms/smsRequest';
import { OptedOutError, type OptOutEntry } from '../sms/optOut';
import { MemoryRateLimiter, sleep, type RateLimiter, type Turn } from './rateLimiter';
import { Backlog, MAX_WAITING_REPLIES, settle, type SendReceiver, type SendResult, type Waiting } from './backlog';
import { Journaling, type Adopter, type SmsAbout } from './journaling';

export type { SendReceiver, SendResult, Adopter, SmsAbout };

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
  /** Keeps both rates: the shared state's (sharedRateLimiter.ts) for every instance; else this Node-RED's own. */
  limiter?: RateLimiter;
  /**
   * How long an outage of the shared state may last before the SMS that wait for it fail, unsent (the
   * account's Timeout): counted from when the outage began (or the SMS came, if later), not from when the
   * SMS entered the queue, so that a blink during a long burst fails none.
   */
  stateWaitMs?: number;
  /**
   * The account's opt-out list, when honoured: each SMS is checked when its turn comes, before each
   * attempt, so a STOP that arrives while it waits still stops it. Rejects with SharedStateError.
   */
  optOuts?: { check(number: string): OptOutEntry | undefined | Promise<OptOutEntry | undefined> };
  /**
   * The shared state's send journal: every SMS waiting here is recorded there until it is sent or has
   * failed, so that another instance takes it over if this one dies (journaling.ts).
   */
  journal?: SendJournal;
  /** The account's spend limits (countries, per-recipient cap, daily budgets), for every SMS it sends. */
  guard?: SpendGuard;
}

export const DEFAULT_QUEUE_OPTIONS: SendQueueOptions = { ratePerSecond: 30, perSenderPerSecond: 0, maxQueued: 1000, maxRetries: 3, backoffMs: 500 };

/** Throttled answers are retried this many times at most: they are Vonage asking us to wait, not a fault. */
const MAX_THROTTLE_RETRIES = 20;

export class QueueError extends Error {
  constructor(
    message: string,
    /** handed-over: another instance took the SMS over (this one was cut off from the shared state) and sends it. */
    readonly reason: 'full' | 'closed' | 'handed-over',
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

/** How often an SMS asks an unreachable shared state again. */
const STATE_RETRY_MS = 500;

export class SendQueue extends EventEmitter {
  private readonly limiter: RateLimiter;
  private readonly backlog = new Backlog();
  /** SMS handed from the backlog to the limiter and not yet settled: with the backlog, every SMS that may wait. */
  private readonly active = new Set<Waiting>();
  /** SMS handed from the backlog to the limiter whose job has not started yet. */
  private fed = 0;
  private inFlight = 0;
  private closed = false;
  /** False while the shared state cannot be reached and SMS wait for it. */
  private stateUp = true;
  /** When the shared state was first found unreachable, in this outage. */
  private outageSince: number | undefined;
  private readonly journaling: Journaling | undefined;

  constructor(
    private readonly client: Pick<VonageClient, 'send'>,
    readonly options: SendQueueOptions = DEFAULT_QUEUE_OPTIONS,
  ) {
    super();
    // Every Send SMS node of the account listens (depth, state, refused): many, by design.
    this.setMaxListeners(0);
    this.limiter = options.limiter ?? new MemoryRateLimiter(options.ratePerSecond, options.perSenderPerSecond);
    if (options.journal) {
      this.journaling = new Journaling(options.journal, {
        held: () => this.held(),
        room: () => (this.closed ? 0 : this.options.maxQueued - (this.backlog.count - this.backlog.replies)),
        takeOver: (taken, adopters) => this.takeOver(taken, adopters),
        handedOver: (entries) => this.handedOver(entries),
      });
    }
  }

  /**
   * Lets a Send SMS node take over the SMS of its own id that a dead instance left (with a shared
   * state's journal): `adopter` says who hears each one's outcome. Returns the way to stop.
   */
  adopt(owner: string, adopter: Adopter): () => void {
    return this.journaling ? this.journaling.adopt(owner, adopter) : () => {};
  }

  /** Whether the shared state answers (always, in memory). Emits 'state' when this changes. */
  get stateAvailable(): boolean {
    return this.stateUp;
  }

  private stateIs(up: boolean): void {
    if (up) this.outageSince = undefined;
    else this.outageSince ??= Date.now();
    if (this.stateUp === up) return;
    this.stateUp = up;
    this.emit('state', up);
  }

  /** Requests waiting or being sent. */
  get depth(): number {
    return this.backlog.count + this.inFlight;
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
  enqueue(request: SmsRequest, owner: string, receiver: SendReceiver, about?: SmsAbout): void {
    const refuse = (err: QueueError) => queueMicrotask(() => receiver.outcome(err, undefined, request));
    if (this.closed) return refuse(new QueueError(`the send queue is closed: the SMS to ${request.to} was not sent`, 'closed'));
    const reply = request.confirmsOptOut === true;
    if (reply ? this.backlog.replies >= MAX_WAITING_REPLIES : this.backlog.count - this.backlog.replies >= this.options.maxQueued) {
      const max = reply ? MAX_WAITING_REPLIES : this.options.maxQueued;
      return refuse(new QueueError(`the send queue is full (${max} ${reply ? 'opt-out confirmations' : 'SMS'} waiting): the SMS to ${request.to} was not sent`, 'full'));
    }
    const refused = this.options.guard?.destination(request);
    if (refused) {
      this.emit('refused', refused);
      return queueMicrotask(() => receiver.outcome(refused, undefined, request));
    }
    const entry: Waiting = { owner, since: Date.now(), request, receiver, waiting: false };
    this.backlog.add(entry);
    this.journaling?.add(entry, about);
    this.changed();
    this.feed();
  }

  /** A dead instance's SMS, taken over: those that waited are sent as this instance's; the others may have been sent. */
  private takeOver(taken: TakenOver, adopters: ReadonlyMap<string, Adopter>): void {
    // Stopping: what was moved stays in this journal, which is left to another instance (journaling.ts).
    if (this.closed) return;
    const stopped = `the Node-RED instance that was sending it stopped answering (no lease renewed in Redis for 10 s)`;
    for (const sms of taken.inFlight) {
      const receiver = adopters.get(sms.owner)?.(sms.request, sms);
      const error = new SmsSendError(`the SMS to ${sms.request.to} was being sent when ${stopped}: it may have been sent; check before sending again`, 'connection', 'instance stopped: may have been sent', true);
      queueMicrotask(() => receiver?.outcome(error, undefined, sms.request));
    }
    for (const sms of taken.waiting) {
      const receiver = adopters.get(sms.owner)?.(sms.request, sms);
      const entry: Waiting = { owner: sms.owner, since: Date.now(), request: sms.request, receiver, waiting: false };
      // Already in this instance's journal: the taking over moved it there.
      this.journaling?.add(entry, { msgid: sms.msgid, topic: sms.topic }, true);
      entry.journal!.id = sms.id;
      // This account's countries hold for what another instance accepted too.
      const refused = this.options.guard?.destination(sms.request);
      if (refused) {
        this.journaling?.settled(entry);
        queueMicrotask(() => receiver?.outcome(refused, undefined, sms.request));
        continue;
      }
      this.backlog.add(entry);
    }
    this.changed();
    this.feed();
  }

  /** SMS another instance took over while this one was cut off from the shared state: it sends them. */
  private handedOver(entries: Waiting[]): void {
    for (const entry of entries) {
      if (!this.backlog.unwait(entry)) continue;
      queueMicrotask(() => settle(entry, new QueueError(`the SMS to ${entry.request.to} was taken over by another Node-RED instance, which sends it`, 'handed-over')));
    }
    this.changed();
  }

  /** Every SMS held: waiting in the backlog, handed to the limiter, or being sent. */
  private *held(): Generator<Waiting> {
    yield* this.backlog.waiting();
    yield* this.active;
  }

  /** The SMS's outcome, told once; out of the journal; what it took of the spend limits given back or corrected. */
  private finish(entry: Waiting, err: Error | undefined, result?: SendResult): void {
    this.journaling?.settled(entry);
    // Failed for want of the shared state, its record there cannot be removed either: if this Node-RED stays
    // cut off longer than its lease, another instance takes the SMS over and sends it. Not "not sent", then.
    if (err instanceof SharedStateError && entry.journal?.stored) {
      err = new SmsSendError(
        `${err.message}; its record in the shared state could not be removed: if this Node-RED stays cut off from it for more than 10 s, another instance may take the SMS over and send it`,
        'connection',
        'shared state unreachable: may be sent by another instance',
        true,
      );
    }
    const share = entry.share;
    const guard = this.options.guard;
    if (!share || !guard) return settle(entry, err, result);
    entry.share = undefined;
    if (err || !result) {
      if (!maybeSent(err)) guard.giveBack(share);
      return settle(entry, err, result);
    }
    const spend = guard.sent(share, result.response);
    if (!(spend instanceof Promise)) return settle(entry, undefined, { ...result, spend });
    spend.then(
      (report) => settle(entry, undefined, { ...result, spend: report }),
      () => settle(entry, undefined, result),
    );
  }

  /** Hands SMS from the backlog to the limiter, oldest first, while fewer than its batch wait there to start. */
  private feed(): void {
    while (this.fed < this.limiter.batch) {
      const entry = this.backlog.next();
      if (!entry) return;
      this.start(entry);
    }
  }

  private start(entry: Waiting): void {
    this.fed += 1;
    this.active.add(entry);
    this.attempt(entry, 1, 0, true).then(
      (result) => {
        this.active.delete(entry);
        this.finish(entry, undefined, result);
      },
      (err: Error) => {
        this.active.delete(entry);
        this.finish(entry, err);
      },
    );
  }

  /** Every SMS counted as waiting: the backlog's, then those handed to the limiter. */
  private *everyWaiting(): Generator<Waiting> {
    yield* this.backlog.waiting();
    for (const entry of [...this.active]) if (entry.waiting) yield entry;
  }

  /** Fails every request of this owner still waiting (none being sent); resolves with how many. */
  cancel(owner: string, reason: string): number {
    let count = 0;
    for (const entry of [...this.everyWaiting()]) {
      if (entry.owner !== owner) continue;
      this.backlog.unwait(entry);
      // Told after cancel returns, as a rejected promise would be: the caller's own summary comes first.
      // Out of the journal now, before a close that may follow at once leaves it.
      this.journaling?.settled(entry);
      queueMicrotask(() => this.finish(entry, new QueueError(reason, 'closed')));
      count += 1;
    }
    if (count) {
      this.backlog.prune();
      this.changed();
    }
    return count;
  }

  /** Refuses new requests, fails every waiting one, and resolves when those being sent have finished. */
  async close(reason: string): Promise<number> {
    this.closed = true;
    let count = 0;
    for (const entry of [...this.everyWaiting()]) {
      this.backlog.unwait(entry);
      this.active.delete(entry);
      this.journaling?.settled(entry);
      queueMicrotask(() => this.finish(entry, new QueueError(reason, 'closed')));
      count += 1;
    }
    this.backlog.clear();
    // What the limiter still holds of them goes now, not when its timers would have fired (a minute, at one SMS a minute).
    this.limiter.close();
    this.changed();
    while (this.inFlight > 0) await new Promise((resolve) => this.once('depth', resolve));
    // Each SMS that was being sent is forgotten by the journal as its answer came: the journal is left now.
    if (this.journaling && !(await this.journaling.close())) this.emit('journal-left-behind', count);
    return count;
  }

  private changed(): void {
    this.emit('depth', this.depth);
  }

  /** @param fed this is the SMS's first turn, handed over from the backlog: its start makes room for the next. */
  private async attempt(entry: Waiting, attempt: number, throttles: number, fed = false): Promise<SendResult> {
    const request = entry.request;
    // Retries go ahead of new requests, and opt-out confirmations behind the flows' SMS.
    const priority = (attempt > 1 ? 1 : 0) - (request.confirmsOptOut ? 2 : 0);
    const sms = { waiting: () => entry.waiting, reachable: () => this.stateIs(true), priority };
    const step = await this.limiter.schedule(
      request.from,
      async (): Promise<Step> => {
        if (fed) {
          fed = false;
          this.fed -= 1;
          // After this one has gone: the limiter may start the next ones at once, and they must not overtake it.
          queueMicrotask(() => this.feed());
        }
        // Cancelled or closed while it waited: its owner was told already.
        if (!entry.waiting) return undefined;
        // The confirmation of an opt-out goes to a number on the list, by design.
        if (this.options.optOuts && !request.confirmsOptOut) {
          let optedOut: OptOutEntry | undefined;
          try {
            // In memory the answer comes at once: no await, so the SMS leaves the waiting count as it did.
            const found = this.options.optOuts.check(request.to);
            optedOut = found instanceof Promise ? await found : found;
          } catch (err) {
            if (err instanceof SharedStateError) return { go: false, stateDown: err };
            return this.done(entry, { kind: 'failed', error: err as Error });
          }
          if (!entry.waiting) return undefined;
          if (optedOut) return this.done(entry, { optedOut });
        }
        // Its share of the spend limits, once (a retry keeps it): refused, it fails and is never retried.
        const guard = this.options.guard;
        if (guard?.active && !entry.share) {
          try {
            // In memory, with the price known, at once: no promise.
            const share = guard.take(request);
            entry.share = share instanceof Promise ? await share : share;
          } catch (err) {
            if (err instanceof SharedStateError) return { go: false, stateDown: err };
            if (err instanceof SpendError) this.emit('refused', err);
            return this.done(entry, { kind: 'failed', error: err as Error });
          }
          if (!entry.waiting) return undefined;
        }
        const asked = this.limiter.turn(request.from, sms);
        const turn = asked instanceof Promise ? await asked : asked;
        if (!turn?.go) return turn;
        // Cancelled or closed while it waited for its turn (a shared one may come back after the stop).
        if (!entry.waiting) {
          turn.ticket?.unused();
          return undefined;
        }
        // Marked in the journal as being sent: if this instance dies now, it is reported, never sent again.
        if (entry.journal) {
          let ours: boolean;
          try {
            ours = await this.journaling!.sending(entry);
          } catch (err) {
            return { go: false, stateDown: err as Error };
          }
          if (!ours || !entry.waiting) return undefined;
        }
        this.backlog.unwait(entry);
        this.inFlight += 1;
        this.changed();
        const startedAt = performance.now();
        let outcome: SendOutcome | undefined;
        try {
          outcome = await this.client.send(request);
          return outcome;
        } catch (err) {
          // Not an outcome the client knows: it may have gone out.
          outcome = { kind: 'maybe-sent', error: new SmsSendError(`sending the SMS to ${request.to} failed: ${(err as Error).message}; it may have been sent`, 'connection', 'failed: may have been sent', true) };
          return outcome;
        } finally {
          turn.ticket?.answered(startedAt);
          // Out of the journal before the in-flight count falls (a closing queue leaves the journal then);
          // one to be retried is no longer being sent: its mark goes, so that a taker sends it.
          if (entry.journal) {
            if (outcome?.kind === 'retry') this.journaling!.unmark(entry);
            else this.journaling!.settled(entry);
          }
          this.inFlight -= 1;
          this.changed();
        }
      },
      priority,
    );
    const again = () => {
      if (!entry.waiting) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
      return this.attempt(entry, attempt, throttles);
    };
    if (!step) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
    if ('laterMs' in step) {
      await sleep(step.laterMs);
      return again();
    }
    if ('stateDown' in step) {
      // The shared state keeps the rate for every instance: without it, nothing is sent. The SMS
      // waits (still counted as queued) and asks again, until the outage has lasted the config node's
      // Timeout: counted from when the outage began, or from when this SMS came if it came during it.
      this.stateIs(false);
      const now = Date.now();
      const waited = now - Math.max(this.outageSince ?? now, entry.since);
      const allowed = this.options.stateWaitMs ?? 10_000;
      if (waited + STATE_RETRY_MS > allowed) {
        if (this.backlog.unwait(entry)) this.changed();
        throw new SharedStateError(
          `${step.stateDown.message}: the SMS to ${request.to} was not sent (it waited ${Math.round(waited / 1000)} s for the shared state, longer than the account's Timeout of ${allowed / 1000} s)`,
        );
      }
      await sleep(STATE_RETRY_MS);
      return again();
    }
    if ('optedOut' in step) throw new OptedOutError(step.optedOut);
    if (step.kind === 'sent') return { response: step.response, ids: step.ids, attempts: attempt };
    if (step.kind !== 'retry') throw step.error;
    const waitMs = this.closed ? undefined : this.retryWait(step, attempt, throttles);
    if (waitMs === undefined) throw step.error;
    // Waiting for its retry, it counts as queued: a stop or a cancel fails it like any other.
    this.backlog.wait(entry);
    this.changed();
    await sleep(waitMs);
    if (!entry.waiting) throw new QueueError(`the SMS to ${request.to} was cancelled`, 'closed');
    return this.attempt(entry, attempt + 1, throttles + (step.throttled ? 1 : 0));
  }

  /** Takes an SMS that will not be sent out of the waiting count. */
  private done<T>(entry: Waiting, step: T): T {
    this.backlog.unwait(entry);
    this.changed();
    return step;
  }

  /** How long to wait before trying again, or undefined when its tries are used up. */
  private retryWait(outcome: Extract<SendOutcome, { kind: 'retry' }>, attempt: number, throttles: number): number | undefined {
    const transientRetries = attempt - 1 - throttles;
    const backoff = () => Math.round(this.options.backoffMs * 2 ** transientRetries * (0.5 + Math.random()));
    if (outcome.throttled) return throttles >= MAX_THROTTLE_RETRIES ? undefined : (outcome.afterMs ?? backoff());
    return transientRetries >= this.options.maxRetries ? undefined : backoff();
  }
}

/** What one turn came to: the client's outcome, the limiter's wait, an opt-out, or nothing (cancelled). */
type Step = SendOutcome | Exclude<Turn, { go: true }> | { optedOut: OptOutEntry };
