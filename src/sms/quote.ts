/**
 * A value quoted in an error message, cut short: values can come from anyone (a webhook's msisdn),
 * and an error, a status or a log line must not grow with them.
 */
export const MAX_QUOTED = 40;

export function quote(value: string): string {
  if (value.length <= MAX_QUOTED) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED))}… (${value.length} characters)`;
}
