/**
 * Work that arrives in a burst, done a slice at a time: 300 msgs from one function node reach Send SMS
 * in one turn of Node-RED's event loop, and composing them all at once would hold up everything else
 * (HTTP requests, timers, other flows) for tens of milliseconds. Each caller asks for its turn: at once
 * while the slice has time left, else in order, in a later turn of the event loop (setImmediate), after
 * Node-RED's I/O has had its go.
 */
export class Slices {
  /** Callers waiting for a later slice, in the order they asked. */
  private readonly waiting: Array<() => void> = [];
  private sliceStart = 0;
  private sliceOpen = false;
  private scheduled = false;

  constructor(private readonly sliceMs: number) {}

  /** Undefined: go on now. Else a promise that resolves, in order, when a later slice has room. */
  turn(): Promise<void> | undefined {
    this.open();
    if (this.waiting.length === 0 && performance.now() - this.sliceStart < this.sliceMs) return undefined;
    const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.schedule();
    return turn;
  }

  /** A slice lasts until the event loop's next check phase (setImmediate) at the latest. */
  private open(): void {
    if (this.sliceOpen) return;
    this.sliceOpen = true;
    this.sliceStart = performance.now();
    setImmediate(() => (this.sliceOpen = false));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.sliceOpen = false;
      this.open();
      this.release();
    });
  }

  /**
   * Lets the next caller go, and once its work has run as far as it can without waiting (the microtasks
   * queued before this check), the next, while the slice has time left.
   */
  private release(): void {
    this.waiting.shift()?.();
    queueMicrotask(() => {
      if (this.waiting.length === 0) return;
      if (performance.now() - this.sliceStart < this.sliceMs) this.release();
      else this.schedule();
    });
  }
}
