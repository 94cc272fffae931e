/**
 * Warnings that a flood could repeat (refused requests, a flapping Redis, held-back replies): each kind
 * is logged at once the first time, then at most once an interval (a minute) per node, with the count
 * of what happened since it was last logged. A webhook hammered 10,000 times a minute logs two lines.
 */

export interface ThrottledWarnings {
  /**
   * Something of this kind happened. `text(count)` is the line to log; `count` is how many times it
   * happened since the last line of this kind (1 for the first).
   */
  warn(kind: string, text: (count: number) => string): void;
  /** Logs what is still counted, and stops the timers. */
  close(): void;
}

interface Pending {
  count: number;
  text: (count: number) => string;
  timer: ReturnType<typeof setTimeout>;
}

export const WARNING_INTERVAL_MS = 60_000;

export function throttledWarnings(log: (line: string) => void, intervalMs = WARNING_INTERVAL_MS): ThrottledWarnings {
  /** Kinds logged within the interval: what happened since, and the timer that logs it. */
  const quiet = new Map<string, Pending>();

  const open = (kind: string, text: (count: number) => string) => {
    const pending: Pending = {
      count: 0,
      text,
      timer: setTimeout(() => {
        quiet.delete(kind);
        // Something happened in the quiet interval: say it now, and stay quiet for another interval.
        if (pending.count > 0) {
          log(pending.text(pending.count));
          open(kind, pending.text);
        }
      }, intervalMs),
    };
    pending.timer.unref?.();
    quiet.set(kind, pending);
  };

  return {
    warn(kind, text) {
      const pending = quiet.get(kind);
      if (pending) {
        pending.count += 1;
        pending.text = text;
        return;
      }
      log(text(1));
      open(kind, text);
    },
    close() {
      for (const pending of quiet.values()) {
        clearTimeout(pending.timer);
        if (pending.count > 0) log(pending.text(pending.count));
      }
      quiet.clear();
    },
  };
}

/** What a line that stands for several events adds: " (37 times in the last minute)". */
export function times(count: number): string {
  return count > 1 ? ` (${count} times in the last minute)` : '';
}
