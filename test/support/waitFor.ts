/**
 * Waiting in tests for what happens, not for a fixed time (issue 24): a test goes on the moment its
 * condition holds, however slow the machine, and fails with what it was waiting for when it never does.
 */

/** Generous, for a loaded machine: a test waits this long for something that should come in moments. */
export const DEADLINE_MS = 10_000;

export interface UntilOptions {
  /** What the test waits for, in words (a function: words read when the wait fails, such as a count so far). */
  what: string | (() => string);
  /** How long to wait at most (a deadline for a broken test, not a time the behaviour must keep). */
  timeoutMs?: number;
  /** How often to look again. */
  everyMs?: number;
}

/**
 * Resolves with the condition's value once it is truthy (checked at once, then every `everyMs`);
 * rejects, saying `what`, when the deadline passes first. The condition may be async.
 */
export async function until<T>(condition: () => T | Promise<T>, options: UntilOptions): Promise<NonNullable<T>> {
  const { what, timeoutMs = DEADLINE_MS, everyMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${typeof what === 'function' ? what() : what}, in vain`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
