/**
 * How an SMS text will travel: GSM-7 when every character is in the GSM 03.38 tables,
 * UCS-2 otherwise, and how many SMS parts that makes. Runtime and editor count with this one
 * module. Plain GSM-7 text is counted here in one pass over its characters (a microsecond for
 * 160 of them); everything else goes to sms-segments-calculator, whose grapheme splitting takes
 * about a millisecond: Unicode, surrogate pairs, grapheme clusters (a carriage return), forced UCS-2.
 * The property tests compare both with the library and with the loopback's own counter.
 */
import { SegmentedMessage } from 'sms-segments-calculator';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  /** `text` or `unicode`: the Vonage `type` parameter. */
  type: 'text' | 'unicode';
  encoding: SmsEncoding;
  /** SMS parts Vonage will send and bill. */
  parts: number;
  /** Characters as a person counts them. */
  characters: number;
  /** Characters that force Unicode, each once. */
  unicodeCharacters: string[];
}

/** Vonage accepts at most this many characters in one request. */
export const MAX_TEXT_LENGTH = 3200;

/** GSM 03.38 (API-NOTES §6), by UTF-16 code unit: 1 septet for the basic table, 2 for the extension table, 0 for neither. */
const GSM_SEPTETS = (() => {
  const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  const extension = '\f^{}\\[~]|€';
  const table = new Uint8Array(0x20ad);
  for (const ch of basic) table[ch.charCodeAt(0)] = 1;
  for (const ch of extension) table[ch.charCodeAt(0)] = 2;
  return table;
})();

const CARRIAGE_RETURN = 13;
const SINGLE_SEPTETS = 160;
const PART_SEPTETS = 153;

/**
 * The count of a text made only of GSM-7 characters, or undefined for any other (and for a carriage
 * return, which with a line feed makes one grapheme the library keeps whole: its count stays the rule).
 */
function countGsm7(text: string): SmsLength | undefined {
  let septets = 0;
  let extended = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const size = code < GSM_SEPTETS.length ? GSM_SEPTETS[code] : 0;
    if (size === 0 || code === CARRIAGE_RETURN) return undefined;
    septets += size;
    if (size === 2) extended = true;
  }
  if (text.length === 0) return undefined;
  let parts = 1;
  if (septets > SINGLE_SEPTETS && !extended) parts = Math.ceil(septets / PART_SEPTETS);
  else if (septets > SINGLE_SEPTETS) {
    // An extension character (two septets) is never split across parts.
    let used = 0;
    for (let i = 0; i < text.length; i += 1) {
      const size = GSM_SEPTETS[text.charCodeAt(i)];
      if (used + size > PART_SEPTETS) {
        parts += 1;
        used = 0;
      }
      used += size;
    }
  }
  return { type: 'text', encoding: 'GSM-7', parts, characters: text.length, unicodeCharacters: [] };
}

const RECENT_LIMIT = 1000;
const recent = new Map<string, SmsLength>();

/** Counts a text; a text seen lately (a fixed Text) is counted once. */
export function countSegments(text: string, forceUnicode = false): SmsLength {
  const gsm7 = forceUnicode ? undefined : countGsm7(text);
  if (gsm7) return gsm7;
  const key = `${forceUnicode ? 'u' : 'a'}${text}`;
  const known = recent.get(key);
  if (known) return { ...known, unicodeCharacters: [...known.unicodeCharacters] };
  const length = count(text, forceUnicode);
  if (recent.size >= RECENT_LIMIT) recent.delete(recent.keys().next().value as string);
  recent.set(key, length);
  return { ...length, unicodeCharacters: [...length.unicodeCharacters] };
}

function count(text: string, forceUnicode: boolean): SmsLength {
  const message = new SegmentedMessage(text, forceUnicode ? 'UCS-2' : 'auto');
  const encoding: SmsEncoding = message.encodingName === 'GSM-7' ? 'GSM-7' : 'UCS-2';
  return {
    type: encoding === 'GSM-7' ? 'text' : 'unicode',
    encoding,
    parts: message.segmentsCount,
    characters: [...text].length,
    unicodeCharacters: [...new Set(message.getNonGsmCharacters() as string[])],
  };
}
