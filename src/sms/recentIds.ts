/**
 * The ids seen within a window, so that a webhook Vonage retries is acknowledged but not emitted
 * twice. Bounded in count (past `maxIds` the oldest are forgotten first) and in bytes: each id is
 * kept as a fixed-size hash, however long the id a request carried.
 */
import crypto from 'node:crypto';

/** 132 bits of SHA-256, as 22 base64url characters: no collision in any window we keep. */
export function fingerprint(id: string): string {
  return crypto.createHash('sha256').update(id).digest('base64url').slice(0, 22);
}

/** Ids kept at most, per store (and, in Redis, per account and kind of webhook). */
export const MAX_RECENT_IDS = 100_000;

export class RecentIds {
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxIds = MAX_RECENT_IDS,
  ) {}

  /** True when the id was seen within the window; remembers it either way. */
  seen(id: string, now = Date.now()): boolean {
    for (const [oldest, at] of this.seenAt) {
      if (at > now - this.windowMs && this.seenAt.size < this.maxIds) break;
      this.seenAt.delete(oldest);
    }
    const key = fingerprint(id);
    const before = this.seenAt.get(key);
    if (before !== undefined && before > now - this.windowMs) return true;
    this.seenAt.delete(key);
    this.seenAt.set(key, now);
    return false;
  }

  /** Takes a mark back: the id was not handled after all, and its retry must be. */
  forget(id: string): void {
    this.seenAt.delete(fingerprint(id));
  }

  get size(): number {
    return this.seenAt.size;
  }
}
