/**
 * The SMS of this instance that wait for a shared turn (sharedRateLimiter.ts), woken in their order.
 * Each is told how long to wait until a slot of the shared window frees; those told the same moment
 * used to sleep on timers of their own, and the first timer to fire asked first and took the slot,
 * whatever its place. Here, one timer wakes everyone due within a few milliseconds, highest priority
 * first and then oldest, in one tick: they ask the shared state in that order (perTick.ts batches
 * them into one call, answered in order), so the first in line takes the slot.
 */

/** Sleepers due this close together wake together: a few ms early costs one more, short, wait. */
const TOGETHER_MS = 5;

interface Sleeper {
  priority: number;
  /** Its place among equals: the order the SMS first asked in. */
  place: number;
  at: number;
  wake(): void;
}

export class TurnLine {
  private sleepers: Sleeper[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private places = 0;

  /** A place in the line, kept by the SMS for every wait until it goes. */
  place(): number {
    this.places += 1;
    return this.places;
  }

  /** Resolves after about `ms`, after every sleeper ahead of it that is due by then. */
  sleep(ms: number, priority: number, place: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ priority, place, at: performance.now() + ms, wake });
      this.arm();
    });
  }

  /** Wakes everyone now (the limiter is closing): each sees it is no longer wanted. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const sleepers = this.sleepers;
    this.sleepers = [];
    for (const sleeper of sleepers) sleeper.wake();
  }

  private arm(): void {
    let first = Infinity;
    for (const sleeper of this.sleepers) first = Math.min(first, sleeper.at);
    if (first >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = first;
    this.timer = setTimeout(() => this.due(), Math.max(0, first - performance.now()));
  }

  private due(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const until = performance.now() + TOGETHER_MS;
    const woken: Sleeper[] = [];
    const later: Sleeper[] = [];
    for (const sleeper of this.sleepers) (sleeper.at <= until ? woken : later).push(sleeper);
    this.sleepers = later;
    woken.sort((a, b) => b.priority - a.priority || a.place - b.place);
    // Resolved in this order, their continuations run, and ask, in this order.
    for (const sleeper of woken) sleeper.wake();
    if (this.sleepers.length > 0) this.arm();
  }
}
