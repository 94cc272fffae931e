/**
 * The ids seen within a window, so that a webhook Vonage retries is acknowledged but not emitted
 * twice. Bounded: past `maxIds` the oldest are forgotten first.
 */
export class RecentIds {
  private readonly seenAt = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly maxIds = 100_000) {}

  /** True when the id was seen within the window; remembers it either way. */
  seen(id: string, now = Date.now()): boolean {
    for (const [oldest, at] of this.seenAt) {
      if (at > now - this.windowMs && this.seenAt.size < this.maxIds) break;
      this.seenAt.delete(oldest);
    }
    const before = this.seenAt.get(id);
    if (before !== undefined && before > now - this.windowMs) return true;
    this.seenAt.delete(id);
    this.seenAt.set(id, now);
    return false;
  }

  get size(): number {
    return this.seenAt.size;
  }
}
