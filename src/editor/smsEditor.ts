/**
 * What the Send SMS editor panel shows while you type: the live counter under Text and the
 * hints under To and From. Bundled for the browser into resources/vonage-sms-editor.js from
 * the very modules the runtime uses, so that the editor and the runtime cannot disagree.
 */
import { countSegments, type SmsLength } from '../sms/encoding';
import { normaliseNumber } from '../sms/phoneNumber';
import { typedEntries } from '../sms/recipients';
import { normaliseSender } from '../sms/sender';
import { showOurMessagesWhole } from './debugSidebar';

export { showsWhole } from './debugSidebar';

/** Characters that look like GSM-7 ones but force Unicode, and the GSM-7 text that replaces them. */
export const LOOK_ALIKES: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u00B4': "'",
  '`': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u201F': '"',
  '\u2033': '"',
  '\u00AB': '"',
  '\u00BB': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2012': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00A0': ' ',
  '\u2009': ' ',
  '\u200A': ' ',
  '\u202F': ' ',
  '\u2007': ' ',
  '\u2022': '*',
  '\u00B7': '.',
  '\u02C6': '^',
  '\u02DC': '~',
  '\u00E7': '\u00C7',
};

const TAG = /\{\{\{?[^}]*\}?\}\}/g;

export interface TextSummary extends SmsLength {
  /** True when the text has template tags: the counts are of its fixed part only. */
  templated: boolean;
  /** Unicode-forcing characters that have a GSM-7 look-alike. */
  replaceable: string[];
}

export function describeText(text: string, unicode: boolean): TextSummary {
  const templated = TAG.test(text);
  TAG.lastIndex = 0;
  const fixed = text.replace(TAG, '');
  const length = countSegments(fixed, unicode);
  return { ...length, templated, replaceable: length.unicodeCharacters.filter((ch) => ch in LOOK_ALIKES) };
}

export function replaceLookAlikes(text: string): string {
  return [...text].map((ch) => LOOK_ALIKES[ch] ?? ch).join('');
}

/**
 * The problem with the fixed numbers typed in To, or '' when they are fine or a template decides at
 * run time. A list (447700900001, 447700900002) is cut into entries exactly as the runtime cuts it.
 */
export function checkTo(value: string, country: string): string {
  let entries: string[];
  try {
    entries = typedEntries(value);
  } catch (err) {
    return `To: the template does not parse: ${(err as Error).message}`;
  }
  for (const entry of entries) {
    if (entry.trim() === '' || entry.includes('{{')) continue;
    try {
      normaliseNumber(entry.trim(), 'To', country || undefined);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return '';
}

/**
 * The one fixed number typed in To, trimmed, whose price the counter can show; '' for a template, a list,
 * a number that would fail, or nothing. Never longer than the price endpoint reads (20 characters).
 */
export function literalTo(value: string, country: string): string {
  const text = value.trim();
  if (text === '' || text.length > 20 || text.includes('{{') || checkTo(text, country) !== '') return '';
  let entries: string[];
  try {
    entries = typedEntries(text).filter((entry) => entry.trim() !== '');
  } catch {
    return '';
  }
  return entries.length === 1 ? entries[0].trim() : '';
}

const CURRENCY_SYMBOLS: Record<string, string> = { EUR: '€', GBP: '£', USD: '$' };

/**
 * What `parts` parts cost at `perPart` each, for the counter: `€0.15`, `£0.067`, `CHF 0.15`. Two decimals
 * from 0.10 up, else two significant digits (an SMS to the US costs under a cent a part).
 */
export function formatPrice(perPart: number, parts: number, currency: string): string {
  const total = perPart * parts;
  const amount = total >= 0.1 || total === 0 ? total.toFixed(2) : String(Number(total.toPrecision(2)));
  const symbol = CURRENCY_SYMBOLS[currency];
  return symbol ? `${symbol}${amount}` : `${currency} ${amount}`;
}

export function checkFrom(value: string, country: string): string {
  if (value.trim() === '' || value.includes('{{')) return '';
  try {
    normaliseSender(value, country || undefined);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

// In the editor: errors and warnings of this package's nodes read whole in the debug sidebar.
const browser = globalThis as unknown as { RED?: Parameters<typeof showOurMessagesWhole>[0]; $?: Parameters<typeof showOurMessagesWhole>[1] };
if (browser.RED && browser.$) showOurMessagesWhole(browser.RED, browser.$);
