/**
 * Both rates kept by the shared state (Redis): each SMS asks the shared log for a turn until it is let
 * through, so that every Node-RED instance's SMS together stay under the account's limits. The queue
 * only bounds how many ask at once (about a second's worth).
 */
import PQueue from 'p-queue';
import type { SendSlots } from '../state/accountState';
import type { RateLimiter, Turn, WaitingSms } from './rateLimiter';
import { TurnLine } from './turnLine';

/**
 * A shared turn older than this when it reaches the SMS is not used: the shared log's margin (about
 * 40 ms a second, see redisAccountState.ts) must also absorb the way from here to Vonage.
 */
const STALE_TURN_MS = 15;
/** Late turns an SMS lets go at most before it takes one anyway. */
const MAX_STALE_TURNS = 3;

export class SharedRateLimiter implements RateLimiter {
  private readonly account: PQueue;
  readonly batch: number;
  /** How long asking the shared state for a turn usually takes (a moving average), in ms. */
  private turnMs: number | undefined;
  /** This instance's SMS that wait for a slot: they ask again in their order, not their timers'. */
  private readonly line = new TurnLine();

  constructor(
    private readonly slots: SendSlots,
    ratePerSecond: number,
  ) {
    const concurrency = Math.max(1, Math.ceil(ratePerSecond));
    this.account = new PQueue({ concurrency });
    this.batch = Math.max(16, 2 * concurrency);
  }

  schedule<T>(_from: string, job: () => Promise<T>, priority: number): Promise<T> {
    return this.account.add(job, { priority }) as Promise<T>;
  }

  /** Until the shared log lets it through: each wait ends when a slot of the window frees. */
  async turn(from: string, sms: WaitingSms): Promise<Turn> {
    let stale = 0;
    const place = this.line.place();
    for (;;) {
      let turn: { waitMs: number; senderBound: boolean };
      const asked = performance.now();
      try {
        turn = await this.slots.take(from);
      } catch (err) {
        return { go: false, stateDown: err as Error };
      }
      sms.reachable();
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
      if (turn.waitMs <= 0) return { go: true };
      // A sender over its own limit waits outside, out of the way of other senders' SMS.
      if (turn.senderBound) return { go: false, laterMs: turn.waitMs };
      await this.line.sleep(turn.waitMs, sms.priority, place);
      if (!sms.waiting()) return undefined;
    }
  }

  close(): void {
    this.account.clear();
    this.line.close();
  }
}
