/**
 * Phone numbers as Vonage wants them: E.164 digits with no `+`, spaces or punctuation
 * (`+44 7700 900123` → `447700900123`), using libphonenumber-js for country codes and
 * national formats. A number is accepted when its length is possible for its country; full
 * range validation is left to Vonage, since a stale local table must never block a real number.
 *
 * Bare digits with a default country may be either form: `4915112345678` (as Vonage writes numbers, in
 * every webhook's `msisdn`) or a national number. See `readDigits` for how that is decided; the full
 * metadata ("max") is used, since only its validity patterns tell the two apart.
 */
import { parsePhoneNumberWithError, ParseError, isSupportedCountry, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import { Metadata, type MetadataJson } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/max/metadata';
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
      throw new InvalidNumberError(`${field} ${quoted} is in national format: write it with its country code (e.g. +44…) or set a default country on the Vonage account`);
    }
    international = `+${compact}`;
  }

  try {
    const parsed = international ? parsePhoneNumberWithError(international) : readDigits(compact, defaultCountry!.toUpperCase() as CountryCode);
    if (!parsed.isPossible()) {
      const length = parsed.nationalNumber.length;
      throw new InvalidNumberError(`${field} ${quoted} is not a possible number for +${parsed.countryCallingCode} (${length} digits after the country code)`);
    }
    return parsed.number.slice(1);
  } catch (err) {
    if (err instanceof InvalidNumberError) throw err;
    throw new InvalidNumberError(`${field} ${quoted} is not a valid phone number: ${explain(err)}`);
  }
}

/**
 * The country (ISO 3166 alpha-2) a number in E.164 digits (`4915112345678`, with or without `+`) belongs
 * to, or undefined when its digits name none (an unknown or shared-cost range, a non-geographic code).
 * For the Pricing API, which prices SMS by destination country. A number in no known range of its calling
 * code (a range set aside for drama, as +44 7700 900xxx, or one newer than the metadata) belongs to the
 * code's main country (GB for +44, US for +1), as a possible number of no other.
 */
export function countryOf(e164: string): string | undefined {
  // Asked for every SMS a guarded account sends: the recent answers are kept (a bounded few).
  if (countries.has(e164)) return countries.get(e164);
  const country = findCountry(e164);
  if (countries.size >= 1000) countries.clear();
  countries.set(e164, country);
  return country;
}

const countries = new Map<string, string | undefined>();

function findCountry(e164: string): string | undefined {
  const digits = e164.startsWith('+') ? e164.slice(1) : e164;
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  const parsed = tryParse(`+${digits}`);
  if (!parsed) return undefined;
  if (parsed.country) return parsed.country;
  const main: string | undefined = (metadata as unknown as MetadataJson).country_calling_codes[parsed.countryCallingCode]?.[0];
  return main && main !== '001' ? main : undefined;
}

const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PAGER']);
const isMobile = (reading: PhoneNumber) => MOBILE_TYPES.has(reading.getType() ?? '');

function tryParse(text: string, country?: CountryCode): PhoneNumber | undefined {
  try {
    return parsePhoneNumberWithError(text, country ? { defaultCountry: country } : undefined);
  } catch {
    return undefined;
  }
}

/**
 * Bare digits with a default country: a national number, or a number in international form without
 * its `+` (as Vonage writes every `msisdn`)? With DE, `015112345678` is national and `4915112345678`
 * international: both reach +49 151 12345678.
 * 1. Digits that start with the country's trunk prefix (`0` in DE, `1` in the US) are national.
 * 2. Else, read both ways: when only one reading is a valid number, it is that one; when both are, and
 *    only one is a mobile number (an SMS goes to a mobile), that one.
 * 3. Else (both or neither valid): national when the digits are written as that country writes the
 *    number at home (Colombia's mobiles and every US number have no trunk prefix: `3211234567`), else
 *    international (a German writes `0` before a national number, so `4915112345678` is not one). The
 *    reading chosen must be a possible number; else the other one.
 */
function readDigits(digits: string, country: CountryCode): PhoneNumber {
  const numbering = new Metadata(metadata as unknown as MetadataJson);
  numbering.selectNumberingPlan(country);
  // In the metadata, not in the library's types.
  const trunk = (numbering.numberingPlan as unknown as { nationalPrefix(): string | undefined }).nationalPrefix();
  if (trunk && digits.startsWith(trunk)) return parsePhoneNumberWithError(digits, { defaultCountry: country });
  const national = tryParse(digits, country);
  const international = tryParse(`+${digits}`);
  const nationalValid = national?.isValid() === true;
  const internationalValid = international?.isValid() === true;
  if (nationalValid !== internationalValid) return (nationalValid ? national : international)!;
  // Both valid: an SMS goes to a mobile, so a reading that is one is the likelier.
  if (nationalValid) {
    const nationalMobile = isMobile(national!);
    if (nationalMobile !== isMobile(international!)) return (nationalMobile ? national : international)!;
  }
  const writtenAtHome = national !== undefined && national.formatNational().replace(/\D/g, '') === digits;
  const order = writtenAtHome ? [national, international] : [international, national];
  const chosen = order.find((reading) => reading?.isPossible()) ?? order.find((reading) => reading !== undefined);
  // Neither reading parses: the national one says why.
  return chosen ?? parsePhoneNumberWithError(digits, { defaultCountry: country });
}
