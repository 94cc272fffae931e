/**
 * Opt-outs: which replies say "stop texting me" (or "start again", or "help"), and the error a Send
 * SMS gets for a number that said so. Since 2025-04-11 the FCC treats "stop", "quit", "end",
 * "revoke", "opt out", "cancel" and "unsubscribe" sent in reply as a revocation that must be honoured.
 */

export type OptOutKeyword = 'stop' | 'start' | 'help';

/**
 * What SMS in says of an SMS in `msg.payload.optOut`: a keyword it recorded, or `maybe` for a text that
 * contains a stop word but is more than it ("please stop"): nothing is recorded, a flow may ask once.
 */
export type OptOutMark = 'stop' | 'start' | 'maybe';

/** The words of each kind, as the config node lists them: upper case, single spaces. */
export interface OptOutKeywords {
  stop: ReadonlySet<string>;
  start: ReadonlySet<string>;
  help: ReadonlySet<string>;
}

export const DEFAULT_KEYWORDS = {
  stop: ['STOP', 'STOPALL', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'OPT OUT'],
  start: ['START', 'UNSTOP', 'YES'],
  help: ['HELP', 'INFO'],
};

/** How an opt-out came to be on the list. */
export type OptOutSource = 'keyword' | 'receipt' | 'list';

export interface OptOutEntry {
  /** E.164 digits, without `+`: as Vonage writes numbers, and as Send SMS normalises To. */
  number: string;
  /** When it was recorded, ISO 8601 UTC. */
  since: string;
  source: OptOutSource;
}

/** Numbers on an opt-out list at most: a forged flood of STOPs cannot grow it (or its file) without end. */
export const MAX_OPT_OUTS = 1_000_000;

/**
 * How long the time a keyword took a number off the list is kept (longer than Vonage retries a webhook,
 * 24 h), and for how many numbers at most: a retried or replayed keyword older than the number's last
 * change changes nothing.
 */
export const REMOVALS_KEPT_MS = 48 * 3_600_000;
export const MAX_REMOVALS = 100_000;

/**
 * The time of a change as the list records it: the keyword message's time (never later than now, so
 * that a forged future timestamp cannot lock a number), or now.
 */
export function changeTime(at: string | undefined, now = new Date()): string {
  const time = at === undefined ? NaN : Date.parse(at);
  return Number.isNaN(time) || time > now.getTime() ? now.toISOString() : new Date(time).toISOString();
}

/** A number that can be on the list: what Vonage writes in `msisdn`, and what Send SMS sends to. */
export const OPT_OUT_NUMBER = /^\d{3,15}$/;

export function isOptOutSource(value: string): value is OptOutSource {
  return value === 'keyword' || value === 'receipt' || value === 'list';
}

/**
 * A text as keywords are compared: Unicode NFKC (full-width ＳＴＯＰ is STOP), invisible characters
 * (zero-width spaces, soft hyphens, byte order marks) taken out, every run of punctuation, symbols and
 * spaces made one space (`🛑 Stop!!` is STOP, `OPT-OUT` is OPT OUT), trimmed, in upper case.
 */
export function normaliseKeyword(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/\p{Cf}+/gu, '')
    .replace(/[\p{P}\p{S}\p{Z}\s]+/gu, ' ')
    .trim()
    .toUpperCase();
}

/** A config node's list ("STOP, QUIT, opt out"), or the default when it has none. */
export function keywordList(text: string | undefined, fallback: readonly string[]): ReadonlySet<string> {
  if (text === undefined || text.trim() === '') return new Set(fallback);
  return new Set(
    text
      .split(',')
      .map(normaliseKeyword)
      .filter((word) => word !== ''),
  );
}

/** The default lists, as a config node without lists of its own has them. */
export const STANDARD_KEYWORDS: OptOutKeywords = {
  stop: keywordList(undefined, DEFAULT_KEYWORDS.stop),
  start: keywordList(undefined, DEFAULT_KEYWORDS.start),
  help: keywordList(undefined, DEFAULT_KEYWORDS.help),
};

/** Characters of a text looked at for a keyword: a keyword is a word or two, padding included. */
const KEYWORD_TEXT_MAX = 160;
/** Characters of a longer text looked at for a stop word in it (four SMS parts). */
const MENTION_TEXT_MAX = 640;

/** Which keyword the whole text is, if it is one: "Stop." and "🛑 STOP" are, "stop the car please" is not. */
export function matchKeyword(text: string, keywords: OptOutKeywords): OptOutKeyword | undefined {
  if (text.length > KEYWORD_TEXT_MAX) return undefined;
  const word = normaliseKeyword(text);
  if (keywords.stop.has(word)) return 'stop';
  if (keywords.start.has(word)) return 'start';
  if (keywords.help.has(word)) return 'help';
  return undefined;
}

/**
 * Whether a text that is not a keyword contains a stop word as a whole word or phrase ("please stop",
 * "Stop texting me", "stop the car please"): SMS in marks it `optOut: "maybe"` and records nothing. Only
 * the first 640 characters are looked at.
 */
export function mentionsStop(text: string, keywords: OptOutKeywords): boolean {
  const words = ` ${normaliseKeyword(text.slice(0, MENTION_TEXT_MAX))} `;
  for (const stop of keywords.stop) if (words.includes(` ${stop} `)) return true;
  return false;
}

const SAID_BY: Record<OptOutSource, string> = {
  keyword: 'replied with an opt-out keyword such as STOP',
  receipt: 'a delivery receipt said the carrier refuses SMS to it: opted out or blocked',
  list: 'added to the opt-out list by a flow',
};

/** Send SMS to a number on the opt-out list: nothing was sent. */
export class OptedOutError extends Error {
  constructor(readonly entry: OptOutEntry) {
    super(
      `not sent to +${entry.number}: this number opted out on ${entry.since.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} (${SAID_BY[entry.source]}). ` +
        'Nothing was sent. It is texted again once it replies START, or once a flow removes it with an opt-out list node',
    );
    this.name = 'OptedOutError';
  }
}

/** No more numbers fit on the list (MAX_OPT_OUTS). */
export class OptOutListFullError extends Error {
  constructor(where: string, max: number) {
    super(`the opt-out list (${where}) holds ${max} numbers, its limit: no more can be added. Remove numbers that no longer matter with an opt-out list node`);
    this.name = 'OptOutListFullError';
  }
}
