/**
 * How an SMS text will travel: GSM-7 when every character is in the GSM 03.38 tables,
 * UCS-2 otherwise, and how many SMS parts that makes. The segment rules come from
 * sms-segments-calculator, so that runtime and editor count alike.
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

const RECENT_LIMIT = 1000;
const recent = new Map<string, SmsLength>();

/** Counts a text; a text seen lately (a fixed Text) is counted once. */
export function countSegments(text: string, forceUnicode = false): SmsLength {
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
