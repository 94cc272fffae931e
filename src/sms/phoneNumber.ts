/**
 * Phone numbers as Vonage wants them: E.164 digits with no `+`, spaces or punctuation
 * (`+44 7700 900123` → `447700900123`), using libphonenumber-js for country codes and
 * national formats. A number is accepted when its length is possible for its country; full
 * range validation is left to Vonage, since a stale local table must never block a real number.
 */
import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js';
import { isSupportedCountry } from 'libphonenumber-js';
import { quote } from './quote';

export class InvalidNumberError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNumberError';
  }
}

/** Characters people write in phone numbers; anything else (letters above all) is refused. */
const NUMBER_CHARACTERS = /^[0-9+\s().\-/]+$/;

export function isCountryCode(country: string): boolean {
  return isSupportedCountry(country.toUpperCase());
}

function explain(err: unknown): string {
  if (err instanceof ParseError) {
    switch (err.message) {
      case 'INVALID_COUNTRY':
        return 'the country code is not known';
      case 'TOO_SHORT':
        return 'it is too short';
      case 'TOO_LONG':
        return 'it is too long';
      case 'NOT_A_NUMBER':
        return 'it is not a phone number';
      default:
        return 'it is not a phone number';
    }
  }
  return 'it is not a phone number';
}

/**
 * @param field the field's label, named in errors (e.g. "To").
 * @param defaultCountry ISO 3166 code used for numbers written in national format (`07700 900123`).
 * @returns the number's E.164 digits, without `+`.
 */
export function normaliseNumber(input: string, field: string, defaultCountry?: string): string {
  // No number is that long: refused without parsing, and never kept.
  if (input.length > MAX_NUMBER_INPUT) throw new InvalidNumberError(`${field} ${quote(input)} is too long to be a phone number`);
  // A fixed To or From is the same every time: parsing it once is enough.
  const key = `${field}\u0000${defaultCountry ?? ''}\u0000${input}`;
  const known = recentNumbers.get(key);
  if (known !== undefined) {
    if (known instanceof InvalidNumberError) throw known;
    return known;
  }
  let result: string | InvalidNumberError;
  try {
    result = parseNumber(input, field, defaultCountry);
  } catch (err) {
    result = err as InvalidNumberError;
  }
  if (recentNumbers.size >= RECENT_LIMIT) recentNumbers.delete(recentNumbers.keys().next().value as string);
  recentNumbers.set(key, result);
  if (result instanceof InvalidNumberError) throw result;
  return result;
}

const RECENT_LIMIT = 1000;
/** Characters a number may be written with, spaces and punctuation included. */
const MAX_NUMBER_INPUT = 64;
const recentNumbers = new Map<string, string | InvalidNumberError>();

function parseNumber(input: string, field: string, defaultCountry?: string): string {
  const text = input.trim();
  const quoted = quote(input);
  if (text === '') throw new InvalidNumberError(`${field} is empty`);
  if (!NUMBER_CHARACTERS.test(text)) {
    throw new InvalidNumberError(`${field} ${quoted} is not a phone number: only digits, spaces, +, -, ( ) and . are allowed`);
  }
  const compact = text.replace(/[\s().\-/]/g, '');
  if (!/^\+?\d+$/.test(compact)) {
    throw new InvalidNumberError(`${field} ${quoted} is not a phone number: a + may only stand at the start`);
  }

  // International forms: +44…, 0044… (the common international prefix), or bare E.164 digits
  // (447700900123, as Vonage itself writes numbers) when no default country says otherwise.
  let international: string | undefined;
  if (compact.startsWith('+')) international = compact;
  else if (compact.startsWith('00')) international = `+${compact.slice(2)}`;
  else if (!defaultCountry) {
    if (compact.startsWith('0')) {
      throw new InvalidNumberError(
        `${field} ${quoted} is in national format: write it with its country code (e.g. +44…) or set a default country on the Vonage credentials`,
      );
    }
    international = `+${compact}`;
  }

  const country = defaultCountry?.toUpperCase() as CountryCode | undefined;
  try {
    const parsed = international
      ? parsePhoneNumberWithError(international)
      : parsePhoneNumberWithError(compact, { defaultCountry: country });
    if (!parsed.isPossible()) {
      const length = parsed.nationalNumber.length;
      throw new InvalidNumberError(
        `${field} ${quoted} is not a possible number for +${parsed.countryCallingCode} (${length} digits after the country code)`,
      );
    }
    return parsed.number.slice(1);
  } catch (err) {
    if (err instanceof InvalidNumberError) throw err;
    throw new InvalidNumberError(`${field} ${quoted} is not a valid phone number: ${explain(err)}`);
  }
}
