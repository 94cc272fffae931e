/** Reading the nodes' numeric settings, as typed in the editor or absent from an older flow. */

/** Vonage's webhooks are small; anything larger is refused with 413. */
export const WEBHOOK_MAX_BYTES = 64 * 1024;

/** A setting as a number of at least `min`, or the default when it is absent, blank or not such a number. */
export function numberSetting(value: unknown, fallback: number, min = 0): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= min ? n : fallback;
}
