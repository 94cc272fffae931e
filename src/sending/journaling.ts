/**
 * The send queue's side of the send journal (a shared state's, see SendJournal): each SMS a flow hands
 * the queue is recorded until it is sent or has failed, and marked just before its request is written;
 * a lease is renewed every few seconds; and each renewal also looks for instances that stopped renewing
 * theirs, taking over the SMS of the Send SMS nodes this Node-RED has too. Opt-out confirmations are not
 * journalled: they are best-effort replies, limited per hour, and belong to no Send SMS node.
 */
import { randomBytes } from 'node:crypto';
import { TakenOverError, type JournalEntry, type SendJournal, type TakenOver } from '../state/accountState';
import type { SmsRequest } from '../sms/smsRequest';
import type { SendReceiver, Waiting } from './backlog';

/** What the flow must get back of an SMS taken over: its msg's `_msgid` and `topic`. */
export interface SmsAbout {
  msgid?: string;
  topic?: string | number;
}

/** A Send SMS node's way to take over an SMS of its own id from a dead instance: who hears its outcome. */
export type Adopter = (request: SmsRequest, about: SmsAbout) => SendReceiver;

/** How often the lease is renewed and dead instances looked for (the lease lasts 10 s). */
export const RENEW_MS = 2_500;

/** What the journal needs of the queue. */
export interface JournalledQueue {
  /** Every SMS still waiting or being sent. */
  held(): Iterable<Waiting>;
  /** How many more SMS the queue may take. */
  room(): number;
  /** SMS taken over: to send (already in this instance's journal), and those that may have been sent. */
  takeOver(taken: TakenOver, adopters: ReadonlyMap<string, Adopter>): void;
  /** SMS of this instance that another one took over while this one was cut off: it sends them. */
  handedOver(entries: Waiting[]): void;
}

export class Journaling {
  /** Entry ids are unique across instances: an SMS taken over keeps its id in the taker's journal. */
  private readonly tag = randomBytes(9).toString('base64url');
  private counter = 0;
  /** SMS whose record has not reached the journal yet (the shared state was away): written at the next renewal. */
  private readonly unstored = new Set<Waiting>();
  private readonly adopters = new Map<string, Adopter>();
  private readonly timer: NodeJS.Timeout;
  private rejoining: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly journal: SendJournal,
    private readonly queue: JournalledQueue,
  ) {
    this.timer = setInterval(() => void this.keep(), RENEW_MS);
    this.timer.unref();
    void this.keep();
  }

  /** Records a waiting SMS (not an opt-out confirmation), unless it is in the journal already (taken over). */
  add(entry: Waiting, about: SmsAbout | undefined, stored = false): void {
    if (entry.request.confirmsOptOut) return;
    entry.journal ??= { id: `${this.tag}${(this.counter++).toString(36)}`, about, stored };
    if (!stored) this.store(entry);
  }

  /** @param sending it is being sent (not waiting): written with its mark, in one step. */
  private store(entry: Waiting, sending = false): void {
    const record = entry.journal!;
    this.unstored.add(entry);
    const written: JournalEntry = { id: record.id, owner: entry.owner, request: entry.request, ...record.about };
    this.journal.add(written, sending).then(
      () => {
        record.stored = true;
        this.unstored.delete(entry);
      },
      (err: Error) => {
        if (err instanceof TakenOverError) void this.rejoin();
      },
    );
  }

  /**
   * Marks the SMS as being sent. Rejects with SharedStateError (it waits for the shared state) or, when
   * another instance took this one over, resolves false once this one has rejoined and the SMS was taken.
   */
  async sending(entry: Waiting): Promise<boolean> {
    if (!entry.journal) return true;
    try {
      await this.journal.sending(entry.journal.id);
      return true;
    } catch (err) {
      if (!(err instanceof TakenOverError)) throw err;
      await this.rejoin();
      // Still this instance's (kept, or written again under the new lease): marked again.
      return entry.waiting ? this.sending(entry) : false;
    }
  }

  /** The SMS was sent or has failed: out of the journal (once, however often it is told). */
  settled(entry: Waiting): void {
    const record = entry.journal;
    if (!record || record.settled) return;
    record.settled = true;
    this.unstored.delete(entry);
    this.journal.remove(record.id);
  }

  /** The SMS was certainly not sent, and will be tried again: no longer marked as being sent. */
  unmark(entry: Waiting): void {
    if (entry.journal) this.journal.unmark(entry.journal.id);
  }

  /** Lets this Send SMS node take over SMS of its own id; returns the way to stop. */
  adopt(owner: string, adopter: Adopter): () => void {
    this.adopters.set(owner, adopter);
    return () => {
      if (this.adopters.get(owner) === adopter) this.adopters.delete(owner);
    };
  }

  /** Renews the lease; writes again what Redis lost; takes over the SMS of instances that stopped renewing. */
  private async keep(): Promise<void> {
    if (this.closed || this.rejoining) return;
    let lease: 'kept' | 'forgotten' | 'taken';
    try {
      lease = await this.journal.renew();
    } catch {
      return; // The shared state is away: the queue reports it; the next renewal tries again.
    }
    if (this.closed) return;
    if (lease === 'taken') return this.rejoin();
    // A Redis that restarted empty has lost the journal: every SMS held is written again, one being sent
    // with its mark (a taker must report it, not send it again).
    for (const entry of lease === 'forgotten' ? [...this.queue.held()] : [...this.unstored]) if (entry.journal && !entry.journal.settled) this.store(entry, !entry.waiting);
    const owners = [...this.adopters.keys()];
    const room = this.queue.room();
    if (owners.length === 0) return;
    let taken: TakenOver;
    try {
      taken = await this.journal.takeOver(owners, room);
    } catch {
      return;
    }
    if (taken.waiting.length + taken.inFlight.length > 0) this.queue.takeOver(taken, this.adopters);
  }

  /**
   * Another instance took this one's SMS over (it had not renewed its lease in time): carries on under a
   * new lease with what is still its own, and hands the others over (the other instance sends them).
   */
  private rejoin(): Promise<void> {
    this.rejoining ??= (async () => {
      const held = [...this.queue.held()].filter((entry) => entry.journal);
      for (;;) {
        try {
          const { kept, moved } = await this.journal.rejoin(held.map((entry) => entry.journal!.id));
          // What the other instance took (even one whose write here had not been confirmed) is its own now.
          const lost = held.filter((entry) => moved.has(entry.journal!.id));
          if (lost.length > 0) this.queue.handedOver(lost);
          // What never reached the journal is written again, under the new lease.
          for (const entry of held) if (!kept.has(entry.journal!.id) && !moved.has(entry.journal!.id) && entry.waiting) this.store(entry);
          return;
        } catch {
          if (this.closed) return;
          await new Promise((resolve) => setTimeout(resolve, RENEW_MS));
        }
      }
    })().finally(() => (this.rejoining = undefined));
    return this.rejoining;
  }

  /**
   * A graceful stop: what waited has failed (its owner was told); the journal and its lease go. False when
   * the shared state could not be told: another instance may then take over what this one failed.
   */
  async close(): Promise<boolean> {
    this.closed = true;
    clearInterval(this.timer);
    return this.journal.close().then(
      () => true,
      () => false,
    );
  }
}
