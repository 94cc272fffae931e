/**
 * The spend guards of an account (issue 25: a flow can never run up a bill): every SMS the send queue sends,
 * a flow's or an opt-out confirmation, must go to an allowed country, stay under the per-recipient cap, and
 * fit in what is left of the day's budgets in parts and in money. The country is checked when the SMS is
 * queued; the rest when its turn comes, just before it is sent, as one take from the account's spend ledger
 * (memory, or Redis for every instance). What an SMS took is given back if it was certainly not sent, and
 * its money corrected with the price Vonage charged.
 */
import type { DayUsage, SpendAnswer, SpendLedger } from '../state/accountState';
import { countSegments } from '../sms/encoding';
import type { SmsRequest } from '../sms/smsRequest';
import { countryOf } from '../sms/phoneNumber';
import { dayEnds, dayIn, type SpendLimits } from '../sms/spendLimits';
import type { SendResponse } from '../vonage/client';

/** A destination's price for one part, in the account's currency. */
export interface PartPrice {
  perPart: number;
  currency: string;
}

/** Looks up the price of one part to a country; rejects (with words to show) when it cannot be known. */
export type PriceLookup = (country: string) => Promise<PartPrice>;

/** Which limit refused the SMS. */
export type SpendLimit = 'country' | 'recipient' | 'parts' | 'money' | 'price';

/** An SMS a spend limit refused: not sent, and never retried. */
export class SpendError extends Error {
  constructor(
    message: string,
    readonly limit: SpendLimit,
  ) {
    super(message);
    this.name = 'SpendError';
  }
}

/** What an SMS took, to give back or correct once its outcome is known. */
export interface SpendShare {
  day: string;
  parts: number;
  money: number;
  recipient?: string;
  currency?: string;
}

/** What msg.sms gets after a send: the price Vonage charged (or the estimate) and what is left today. */
export interface SpendReport {
  price?: number;
  currency?: string;
  /** What is left of today's budgets (only those set). */
  budgetLeft?: { parts?: number; money?: number };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export class SpendGuard {
  /** The budgets' day, and when it ends: worked out again only then. */
  private day = { key: '', until: 0 };
  /** The last price of each country: an SMS whose price is known asks no promise. */
  private readonly known = new Map<string, { price: PartPrice; until: number }>();

  constructor(
    readonly limits: SpendLimits,
    private readonly ledger: SpendLedger,
    private readonly prices: PriceLookup | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any limit applies: without, the queue skips the guard. */
  get active(): boolean {
    const l = this.limits;
    return l.countries !== undefined || l.dailyParts !== undefined || l.dailySpend !== undefined || l.perRecipient > 0;
  }

  /** The destination check, when the SMS is queued: the error, or undefined when the country is allowed. */
  destination(request: SmsRequest): SpendError | undefined {
    const allowed = this.limits.countries;
    if (!allowed) return undefined;
    const country = countryOf(request.to);
    if (country && allowed.has(country)) return undefined;
    return new SpendError(
      `the SMS to ${request.to} was not sent: ${country ? `it goes to ${country}` : 'its country is not known'}, and this account sends only to ${[...allowed].join(', ')} (the config node's Countries)`,
      'country',
    );
  }

  /**
   * Takes the SMS's share, just before it is sent: rejects with SpendError when a limit refuses it, or with
   * what the ledger or the price lookup rejects with (SharedStateError: the SMS waits for the shared state).
   */
  /** The budgets' day now (YYYY-MM-DD in their time zone). */
  private dayKey(): string {
    const now = this.now();
    if (now >= this.day.until || now < this.day.until - 26 * 3_600_000) this.day = { key: dayIn(this.limits.timeZone, now), until: dayEnds(this.limits.timeZone, now) };
    return this.day.key;
  }

  /**
   * Takes the SMS's share, just before it is sent; at once when nothing needs a promise (memory, a price
   * known). Throws or rejects with SpendError when a limit refuses it, or with what the ledger or the price
   * lookup rejects with (SharedStateError: the SMS waits for the shared state).
   */
  take(request: SmsRequest): SpendShare | Promise<SpendShare> {
    const l = this.limits;
    const parts = (request as { parts?: number }).parts ?? countSegments(request.text, request.type === 'unicode').parts;
    if (l.dailySpend === undefined) return this.count(request, parts, 0, undefined);
    const refused = (err: unknown) =>
      // Refused rather than guessed: the money budget cannot be kept without the price.
      new SpendError(`the SMS to ${request.to} was not sent: its price is not known (${(err as Error).message}), and the account has a daily spend budget of ${l.dailySpend}`, 'price');
    const country = countryOf(request.to);
    if (!this.prices || !country) throw refused(new Error(country ? 'no price lookup for this account' : 'the number has no known country'));
    const known = this.known.get(country);
    if (known && known.until > this.now()) return this.count(request, parts, round(known.price.perPart * parts), known.price.currency);
    return this.prices(country).then(
      (price) => {
        if (this.known.size >= 300) this.known.clear();
        // Kept an hour here; the lookup itself keeps it a day.
        this.known.set(country, { price, until: this.now() + 3_600_000 });
        return this.count(request, parts, round(price.perPart * parts), price.currency);
      },
      (err: unknown) => {
        throw refused(err);
      },
    );
  }

  private count(request: SmsRequest, parts: number, money: number, currency: string | undefined): SpendShare | Promise<SpendShare> {
    const l = this.limits;
    const day = this.dayKey();
    const share = (answer: SpendAnswer): SpendShare => {
      if (answer !== 'ok') throw this.refusal(answer, request, parts, money, currency);
      return { day, parts, money, recipient: l.perRecipient > 0 ? request.to : undefined, currency };
    };
    const answer = this.ledger.take({ recipient: request.to, cap: l.perRecipient, day, parts, money, maxParts: l.dailyParts, maxMoney: l.dailySpend });
    return answer instanceof Promise ? answer.then(share) : share(answer);
  }

  private refusal(answer: Exclude<SpendAnswer, 'ok'>, request: SmsRequest, parts: number, money: number, currency: string | undefined): SpendError {
    const l = this.limits;
    const resets = () => {
      const at = dayEnds(l.timeZone, this.now());
      const inMinutes = Math.max(1, Math.round((at - this.now()) / 60_000));
      return `it resets at midnight ${l.timeZone} (in ${inMinutes >= 60 ? `${Math.floor(inMinutes / 60)} h ${inMinutes % 60} min` : `${inMinutes} min`})`;
    };
    switch (answer) {
      case 'recipient':
        return new SpendError(`the SMS to ${request.to} was not sent: ${l.perRecipient} SMS went to this number in the last hour, the account's cap (the config node's Per recipient)`, 'recipient');
      case 'parts':
        return new SpendError(`the SMS to ${request.to} was not sent: the daily budget of ${l.dailyParts} SMS parts is used up (this SMS has ${parts}); ${resets()}`, 'parts');
      case 'money':
        return new SpendError(`the SMS to ${request.to} was not sent: the daily spend budget of ${l.dailySpend}${currency ? ` ${currency}` : ''} is used up (this SMS would cost about ${money}); ${resets()}`, 'money');
    }
  }

  /** The SMS was certainly not sent: its share goes back. */
  giveBack(share: SpendShare): void {
    this.ledger.adjust({ day: share.day, parts: -share.parts, money: -share.money, recipient: share.recipient });
  }

  /** The SMS was sent: its money corrected with what Vonage charged (the SMS API's message-price a part); what msg.sms gets. */
  sent(share: SpendShare, response: SendResponse): SpendReport | Promise<SpendReport> {
    const l = this.limits;
    const charged = 'messages' in response ? response.messages.map((m) => Number(m['message-price'])) : [];
    const price = charged.length > 0 && charged.every((p) => Number.isFinite(p)) ? round(charged.reduce((a, b) => a + b, 0)) : share.currency ? share.money : undefined;
    if (l.dailySpend !== undefined && price !== undefined && price !== share.money) this.ledger.adjust({ day: share.day, parts: 0, money: round(price - share.money) });
    const report: SpendReport = {};
    if (price !== undefined) report.price = price;
    if (share.currency) report.currency = share.currency;
    if (l.dailyParts === undefined && l.dailySpend === undefined) return report;
    const left = (used: DayUsage | undefined): SpendReport => {
      if (!used) return report;
      report.budgetLeft = {};
      if (l.dailyParts !== undefined) report.budgetLeft.parts = Math.max(0, l.dailyParts - used.parts);
      if (l.dailySpend !== undefined) report.budgetLeft.money = Math.max(0, round(l.dailySpend - used.money));
      return report;
    };
    const used = this.ledger.usage(share.day);
    return used instanceof Promise ? used.then(left, () => report) : left(used);
  }

  /** Today's usage and what is left, for a flow or a dashboard. */
  async today(): Promise<{ day: string; timeZone: string; parts: number; money: number; left: { parts?: number; money?: number } }> {
    const l = this.limits;
    const day = dayIn(l.timeZone, this.now());
    const used = await this.ledger.usage(day);
    const left: { parts?: number; money?: number } = {};
    if (l.dailyParts !== undefined) left.parts = Math.max(0, l.dailyParts - used.parts);
    if (l.dailySpend !== undefined) left.money = Math.max(0, round(l.dailySpend - used.money));
    return { day, timeZone: l.timeZone, parts: used.parts, money: round(used.money), left };
  }
}
