/** Settings shared by the webhook nodes (SMS in, SMS receipt). */

/** Vonage's webhooks are small; anything larger is refused with 413. */
export const WEBHOOK_MAX_BYTES = 64 * 1024;

/** A setting in seconds, or the default when it is absent, empty or not a number. */
export function seconds(value: unknown, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && value !== null && Number.isFinite(n) && n >= 0 ? n : fallback;
}
