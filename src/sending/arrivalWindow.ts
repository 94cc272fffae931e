/**
 * The account's requests as Vonage counts them: by when they arrive, not when they start.
 *
 * The memory rate limiter (rateLimiter.ts) spaces the *starts* of requests (p-queue, strict interval). Starts and arrivals
 * are a steady trip apart on a connection that is open, but the first request of a burst may first
 * have to open one (TCP, TLS: tens of milliseconds to Vonage), and then it arrives late, in the same
 * rolling second as the requests started a second after it. Counted by starts, that second then holds
 * more than the limit and Vonage throttles the extra ones (status 1).
 *
 * So each request, before it is sent, waits for the request `limit` places before it to have *arrived*
 * one window earlier. A request's arrival is not seen from here; it lies between its start and its
 * answer, and is estimated as the later of start + half the fastest round trip seen and answer − half
 * of it. On an open connection that equals start + half a trip, and the next request's own trip adds
 * the same: no wait beyond the queue's spacing. A request that paid for a connection is estimated late by
 * what the connection cost, and the request a window after it waits that long too.
 */

/** One request's place in the window: its estimated arrival once it has an answer. */
export interface ArrivalTicket {
  /** The request got an answer (or failed) now; it started at `startedAt` (performance.now()). */
  answered(startedAt: number): void;
  /** The request was never sent: it does not count. */
  unused(): void;
}

class Place implements ArrivalTicket {
  /** performance.now() ms; NaN until the request has an answer (-Infinity for places never used). */
  startedAt = NaN;
  answeredAt = NaN;
  private waiters: Array<() => void> | undefined;

  constructor(private readonly window: ArrivalWindow | undefined) {}

  get pending(): boolean {
    return Number.isNaN(this.answeredAt);
  }

  /** Resolves once the request has its answer. */
  known(): Promise<void> {
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  answered(startedAt: number): void {
    if (!this.pending) return;
    this.startedAt = startedAt;
    this.answeredAt = performance.now();
    this.window?.roundTrip(this.answeredAt - startedAt);
    this.wake();
  }

  unused(): void {
    if (!this.pending) return;
    this.startedAt = this.answeredAt = -Infinity;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const wake of waiters) wake();
  }
}

export class ArrivalWindow {
  private readonly places: Place[];
  private next = 0;
  /** The fastest round trip seen, ms: its half is the trip one way. */
  private fastestRoundTrip = Infinity;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve(): void }>();
  private closed = false;

  /**
   * @param limit requests in one window
   * @param windowMs the window they must fit in (the queue's margin included)
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    this.places = Array.from({ length: limit }, () => {
      const place = new Place(undefined);
      place.unused();
      return place;
    });
  }

  /** For a rate in requests a second and the share of it used (as p-queue's interval is made). */
  static forRate(perSecond: number, margin: number): ArrivalWindow | undefined {
    if (!(perSecond > 0)) return undefined;
    const limit = Math.max(1, Math.floor(perSecond));
    return new ArrivalWindow(limit, (1000 * limit) / (perSecond * margin));
  }

  /**
   * A place for the next request: at once when the request `limit` before it arrived a window ago (as
   * it almost always has, the queue spacing them so), else a promise that resolves when it may go.
   */
  turn(): ArrivalTicket | Promise<ArrivalTicket> {
    const index = this.next % this.limit;
    this.next += 1;
    const before = this.places[index];
    const place = new Place(this);
    this.places[index] = place;
    if (this.waitAfter(before) === 0) return place;
    return (async () => {
      // Still on its way: its answer tells when it arrived.
      if (before.pending) await before.known();
      const wait = this.waitAfter(before);
      if (wait > 0 && !this.closed) {
        await new Promise<void>((resolve) => {
          const sleeper = { timer: setTimeout(() => wake(), wait), resolve: () => wake() };
          const wake = () => {
            clearTimeout(sleeper.timer);
            this.sleepers.delete(sleeper);
            resolve();
          };
          this.sleepers.add(sleeper);
        });
      }
      return place;
    })();
  }

  /** Ends every wait now (the queue is closing: those waiting were failed already, and must not be held). */
  close(): void {
    this.closed = true;
    for (const sleeper of [...this.sleepers]) sleeper.resolve();
  }

  /** How long a request must wait after `before`: 0, a time in ms, or -1 while `before` has no answer. */
  private waitAfter(before: Place): number {
    if (before.pending) return -1;
    // Judged with the fastest trip known now: the first requests of a burst have no fast one to go by.
    const oneWay = Number.isFinite(this.fastestRoundTrip) ? this.fastestRoundTrip / 2 : 0;
    const arrived = Math.max(before.startedAt + oneWay, before.answeredAt - oneWay);
    // This one arrives about one way after now; `before` must have arrived a window earlier.
    const wait = arrived + this.windowMs - (performance.now() + oneWay);
    return wait > 0 ? Math.ceil(wait) : 0;
  }

  roundTrip(ms: number): void {
    if (ms < this.fastestRoundTrip) this.fastestRoundTrip = ms;
  }
}
