/**
 * What an SMS costs, from Vonage's Pricing API (v1): `GET {host}/account/get-pricing/outbound/sms?country=XX`
 * with the account's API key and secret (Basic auth), answering one country's prices, every value a string
 * as the API reference types them (developer.vonage.com/en/api/pricing, "Retrieve outbound pricing for a
 * specific country"):
 *
 *     {"countryCode":"CA","countryName":"Canada","countryDisplayName":"Canada","currency":"EUR",
 *      "defaultPrice":"0.00620000","dialingPrefix":"1","networks":[{"type":"mobile","price":"0.00590000",
 *      "currency":"EUR","mcc":"302","mnc":"530","networkCode":"302530","networkName":"…"}]}
 *
 * For the money budget (the Messages API answers no price for an SMS) and for the cost shown before
 * sending. A price is kept a day per country (at most MAX_COUNTRIES of them); concurrent lookups of one
 * country share one request; the API is asked at most once a second (its documented rate limit). Every
 * failure (the API unreachable, a non-2xx answer, an answer that is not a price) rejects with a
 * PricingError that says so: never a guess, and never the secret.
 *
 * The Pricing API lives on the account API's host (`rest.nexmo.com`), which the SMS API shares; the Messages
 * API's hosts (`api.nexmo.com`, regional ones) do not serve it, so an account that speaks the Messages API
 * asks `rest.nexmo.com`, unless its host is another one (the loopback API, a proxy), which is asked itself.
 */
import { ApiConnection, type ApiAnswer } from './apiConnection';
import { transportCode } from './client';
import { ProxyError, proxyFor, type ProxySettings } from './proxy';
import { MESSAGES_HOSTS } from './messagesClient';
import { DEFAULT_REST_HOST } from './smsClient';
import { countryOf } from '../sms/phoneNumber';

/** One part of an SMS to a country, as the Pricing API prices it. */
export interface SmsPrice {
  /** ISO 3166 alpha-2, as asked: `DE`. */
  country: string;
  /** As Vonage names it for display: `Germany`. */
  countryName: string;
  /** The account's billing currency: `EUR` unless the account is billed in another. */
  currency: string;
  /** What one SMS part to this country costs at most (see `perPartOf`). */
  perPart: number;
}

export class PricingError extends Error {
  constructor(
    message: string,
    /** The country whose price was asked, when it was one. */
    readonly country?: string,
  ) {
    super(message);
    this.name = 'PricingError';
  }
}

export interface PricingAccount {
  apiKey: string;
  apiSecret: string;
  /** The Pricing API's host: see `pricingHost`. */
  host: string;
  timeoutMs: number;
  /** The account's proxy settings (proxy.ts): the Pricing API is reached as the account's API is. */
  proxy?: ProxySettings;
}

export interface PricingOptions {
  /** How long a country's price is kept (a day). */
  keepMs?: number;
  /** The least time between two requests to the API (Vonage allows one a second). */
  spacingMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

const DAY_MS = 86_400_000;
/** Vonage prices about 240 countries: the cache never holds more than that, whatever is asked. */
export const MAX_COUNTRIES = 250;
const SPACING_MS = 1_000;

/** The host an account's prices are asked of, for the API it speaks and the host it sends to. */
export function pricingHost(api: 'sms' | 'messages', host: string): string {
  const bare = host.replace(/\/+$/, '');
  return api === 'messages' && MESSAGES_HOSTS.includes(bare) ? DEFAULT_REST_HOST : bare;
}

/** A price as the API writes it (a string, "0.07500000"; a number is read alike): undefined when it is not one. */
function amount(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,6}(\.\d{1,12})?$/.test(text.trim())) return undefined;
  return Number(text);
}

/**
 * The price of one part: the highest of the country's default price and each network's price. Vonage
 * charges by the recipient's network, which a number does not tell (it may have been ported); a budget
 * that took the default price, or the cheapest network, could let through more than it allows, where the
 * highest may only refuse an SMS a little early. So the estimate is never below the real charge.
 * Undefined when the answer is not a price: any price in it unreadable, or none at all.
 */
function perPartOf(body: Record<string, unknown>, currency: string): number | undefined {
  const prices: number[] = [];
  if (body.defaultPrice !== undefined && body.defaultPrice !== null) {
    const price = amount(body.defaultPrice);
    if (price === undefined) return undefined;
    prices.push(price);
  }
  if (body.networks !== undefined && body.networks !== null) {
    if (!Array.isArray(body.networks)) return undefined;
    for (const network of body.networks as unknown[]) {
      if (!network || typeof network !== 'object') return undefined;
      const { price, currency: networkCurrency } = network as Record<string, unknown>;
      // A network priced in another currency cannot be compared: the whole answer is not trusted.
      if (networkCurrency !== undefined && networkCurrency !== currency) return undefined;
      const value = amount(price);
      if (value === undefined) return undefined;
      prices.push(value);
    }
  }
  return prices.length > 0 ? Math.max(...prices) : undefined;
}

export class SmsPricing {
  private readonly connection: ApiConnection;
  private readonly authorization: string;
  private readonly host: string;
  private readonly known = new Map<string, { price: SmsPrice; at: number }>();
  private readonly asking = new Map<string, Promise<SmsPrice>>();
  private readonly keepMs: number;
  private readonly spacingMs: number;
  private readonly now: () => number;
  /** When the last request may be followed by the next. */
  private nextAt = 0;
  private closed = false;

  constructor(
    private readonly account: PricingAccount,
    options: PricingOptions = {},
  ) {
    this.host = account.host.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${account.apiKey}:${account.apiSecret}`).toString('base64')}`;
    this.connection = new ApiConnection(this.host, account.timeoutMs, proxyFor(this.host, account.proxy));
    this.keepMs = options.keepMs ?? DAY_MS;
    this.spacingMs = options.spacingMs ?? SPACING_MS;
    this.now = options.now ?? Date.now;
  }

  /** The price of one SMS part to `country` (ISO 3166 alpha-2); rejects with PricingError. */
  price(country: string): Promise<SmsPrice> {
    const code = typeof country === 'string' ? country.trim().toUpperCase() : '';
    if (!/^[A-Z]{2}$/.test(code)) return Promise.reject(new PricingError(`"${String(country).slice(0, 20)}" is not a country code (two letters, as DE)`));
    const kept = this.known.get(code);
    if (kept && this.now() - kept.at < this.keepMs) return Promise.resolve(kept.price);
    const pending = this.asking.get(code);
    if (pending) return pending;
    const asked = this.ask(code).finally(() => this.asking.delete(code));
    this.asking.set(code, asked);
    return asked;
  }

  /**
   * What an SMS of `parts` parts to `to` (E.164 digits) costs: the per-part price × parts, rounded to the
   * API's own 8 decimals. Rejects with PricingError, also when the number's country is not known.
   */
  async estimate(to: string, parts: number): Promise<{ price: number; currency: string; country: string; countryName: string }> {
    const country = countryOf(to);
    if (!country) throw new PricingError(`the country of ${to.slice(0, 20)} is not known, so its price is not either`);
    const price = await this.price(country);
    return { price: Number((price.perPart * parts).toFixed(8)), currency: price.currency, country, countryName: price.countryName };
  }

  /** Lets go of the kept-open connection (the config node is closing); lookups after it fail. */
  close(): void {
    this.closed = true;
    this.connection.close();
  }

  private async turn(): Promise<void> {
    const now = this.now();
    const wait = this.nextAt - now;
    this.nextAt = Math.max(now, this.nextAt) + this.spacingMs;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private async ask(country: string): Promise<SmsPrice> {
    const where = `Vonage's Pricing API at ${this.connection.where}`;
    const failed = (why: string) => new PricingError(`the price of an SMS to ${country} is not known: ${why}`, country);
    await this.turn();
    if (this.closed) throw failed('the Vonage account has stopped');
    let answer: ApiAnswer;
    try {
      answer = await this.connection.request('GET', `/account/get-pricing/outbound/sms?country=${country}`, { Authorization: this.authorization, Accept: 'application/json' });
    } catch (err) {
      if (err instanceof ProxyError) throw failed(err.message);
      const { code, timedOut } = transportCode(err);
      if (timedOut) throw failed(`${where} did not answer within ${this.account.timeoutMs / 1000} s`);
      throw failed(`${where} could not be reached${code ? ` (${code})` : ''}`);
    }
    const { status, json } = answer;
    const body = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
    if (status === 401) throw failed(`${where} refused the API key and secret (HTTP 401): check them on the Vonage account`);
    if (status === 429) throw failed(`${where} allows one request a second, and answered HTTP 429: try again`);
    if (status === 400) {
      const invalid = body?.invalid_parameters as Record<string, unknown> | undefined;
      const said = [body?.error_title, invalid?.parameter, invalid?.message].filter((p) => typeof p === 'string').map((p) => (p as string).slice(0, 100));
      throw failed(`${where} has no SMS price for this country (HTTP 400${said.length ? `: ${said.join(', ')}` : ''})`);
    }
    if (status < 200 || status >= 300) throw failed(`${where} answered HTTP ${status}`);
    const currency = body?.currency;
    const perPart = body && typeof currency === 'string' && /^[A-Z]{3}$/.test(currency) ? perPartOf(body, currency) : undefined;
    if (!body || perPart === undefined || (body.countryCode !== undefined && body.countryCode !== country)) {
      throw failed(`${where} did not answer with a price for it (not the Pricing API's answer)`);
    }
    const name = [body.countryDisplayName, body.countryName].find((n) => typeof n === 'string' && n.trim() !== '') as string | undefined;
    const price: SmsPrice = { country, countryName: name?.slice(0, 100) ?? country, currency: currency as string, perPart };
    if (this.known.size >= MAX_COUNTRIES && !this.known.has(country)) this.known.delete(this.known.keys().next().value as string);
    this.known.delete(country);
    this.known.set(country, { price, at: this.now() });
    return price;
  }
}

/**
 * The prices of a dry run's SMS, each known one by the SMS: `price` (all its parts) and `currency`. One
 * that cannot be priced (no pricing, an unknown country, the API down) is simply left out.
 */
export async function dryRunPrices<T extends { to: string; parts: number }>(pricing: SmsPricing | Error | undefined, messages: Array<T | undefined>): Promise<Map<T, { price: number; currency: string }>> {
  const prices = new Map<T, { price: number; currency: string }>();
  if (!pricing || pricing instanceof Error) return prices;
  await Promise.all(
    messages.map(async (sms) => {
      if (!sms) return;
      try {
        const { price, currency } = await pricing.estimate(sms.to, sms.parts);
        prices.set(sms, { price, currency });
      } catch {
        // Not known: the dry run says nothing of its price.
      }
    }),
  );
  return prices;
}
