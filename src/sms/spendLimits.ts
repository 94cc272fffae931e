/**
 * The account's spend limits, as the `nexmobasic` node's fields give them (issue 25: a flow can never run
 * up a bill): the destination countries allowed, a daily budget in SMS parts and in money, the day's time
 * zone, and a cap on SMS to one number an hour. Pure: parsing and the day's key; the counting is the
 * send queue's (sending/spendGuard.ts), kept in the account state.
 */
import { isCountryCode } from './phoneNumber';
import { quote } from './quote';

export interface SpendLimits {
  /** ISO 3166 alpha-2 codes an SMS may go to; undefined: any country. */
  countries?: ReadonlySet<string>;
  /** SMS parts a day, at most; undefined: no budget. */
  dailyParts?: number;
  /** Money a day, in the account's currency, at most; undefined: no budget. */
  dailySpend?: number;
  /** SMS to one number in any rolling hour, at most; 0: no cap. */
  perRecipient: number;
  /** The IANA time zone whose day the budgets count (UTC by default). */
  timeZone: string;
}

export const DEFAULT_PER_RECIPIENT = 20;

/** A setting of the config node that cannot be used: the node says which and why. */
export class SpendSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpendSettingError';
  }
}

/** "GB, DE fr" → {GB, DE, FR}; empty: undefined (any country). Throws SpendSettingError naming an unknown code. */
export function parseCountries(text: string | undefined): ReadonlySet<string> | undefined {
  const codes = (text ?? '')
    .split(/[\s,;]+/)
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  if (codes.length === 0) return undefined;
  const unknown = codes.filter((code) => !/^[A-Z]{2}$/.test(code) || !isCountryCode(code));
  if (unknown.length > 0)
    throw new SpendSettingError(`Countries: ${unknown.map((c) => quote(c)).join(', ')} ${unknown.length > 1 ? 'are not ISO 3166 country codes' : 'is not an ISO 3166 country code'} (two letters, e.g. GB, DE)`);
  return new Set(codes);
}

/** Whether the IANA time zone is one this Node.js knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The day `at` falls on in the time zone, as YYYY-MM-DD: the key the budgets count under. */
export function dayIn(timeZone: string, at: number): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

/** When the day that `at` falls on ends in the time zone (ms since the epoch): found to the minute. */
export function dayEnds(timeZone: string, at: number): number {
  const today = dayIn(timeZone, at);
  // Days last 23 to 25 hours: search the next 26 hours for the first minute of another day.
  let low = at;
  let high = at + 26 * 3_600_000;
  while (high - low > 60_000) {
    const middle = Math.floor((low + high) / 2);
    if (dayIn(timeZone, middle) === today) low = middle;
    else high = middle;
  }
  const minute = Math.floor(high / 60_000) * 60_000;
  return dayIn(timeZone, minute) === today ? minute + 60_000 : minute;
}

/**
 * A budget as typed: blank (or absent, in an older flow) for none, else a number of at least 0. Anything
 * else is an error, never read as "no budget": a typo must not switch a guard off.
 */
export function budgetSetting(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n < 0) throw new SpendSettingError(`${field}: ${quote(String(value))} is not a number of at least 0 (leave it empty for none)`);
  return n;
}

/** The limits from the config node's fields; throws SpendSettingError naming the field that cannot be used. */
export function spendLimits(fields: { countries?: string; dailyparts?: unknown; dailyspend?: unknown; perrecipient?: unknown; budgettz?: string }): SpendLimits {
  const timeZone = (fields.budgettz ?? '').trim() || 'UTC';
  if (!isTimeZone(timeZone)) throw new SpendSettingError(`Time zone: ${quote(timeZone)} is not an IANA time zone (e.g. Europe/London, America/New_York; empty for UTC)`);
  const dailyParts = budgetSetting(fields.dailyparts, 'Daily parts');
  const perRecipient = budgetSetting(fields.perrecipient, 'Per recipient');
  return {
    countries: parseCountries(fields.countries),
    dailyParts: dailyParts === undefined ? undefined : Math.floor(dailyParts),
    dailySpend: budgetSetting(fields.dailyspend, 'Daily spend'),
    perRecipient: perRecipient === undefined ? DEFAULT_PER_RECIPIENT : Math.floor(perRecipient),
    timeZone,
  };
}
