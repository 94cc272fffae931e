/**
 * A loopback Vonage SMS API on 127.0.0.1, faithful to ../shared/vonage/API-NOTES.md and the
 * official sms-openapi.yml, for the tests and `npm start`: nothing here reaches Vonage.
 *
 * - `POST /sms/json` with Basic or body credentials, JSON or form bodies (query merged in).
 * - Every response value a string, one `messages[]` entry a part, `message-count` = parts.
 * - Statuses 2, 3, 4, 12 and 29 for the matching bad requests, `Content-Type: application/json`.
 * - It records every request, and can be told to inject faults for the next requests (or every Nth),
 *   among them half-answers: the request carried out, then a gateway's 502/504 or a dropped connection.
 * - A small control API under `/_loopback/` lets another process (`npm run inbound`) use it.
 * - The account API's `GET /account/get-balance`, and the Pricing API's
 *   `GET /account/get-pricing/outbound/sms?country=XX` (Basic or api_key/api_secret credentials), as
 *   Vonage's Pricing API reference documents it (developer.vonage.com/en/api/pricing): one country's
 *   `countryCode`, `countryName`, `countryDisplayName`, `currency`, `defaultPrice`, `dialingPrefix` and
 *   `networks[]` (`type`, `price`, `currency`, `mcc`, `mnc`, `networkCode`, `networkName`), every value a
 *   string; 400 `{"error_title","invalid_parameters","type":"BAD_REQUEST"}` for a missing or unknown
 *   country; 401 `{"code":"401","currency","error-code-label":"authentication failed"}`; 404 (empty) for
 *   another type or path under it; with `pricingOnePerSecond`, its documented limit (one request a second
 *   per key; beyond it, 429 with an empty body). `pricingDown()` makes it fail, `setPrice()` changes a
 *   country's price. Its requests are kept apart, in `pricingRequests`: `requests` stays what was sent.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { countParts } from './smsParts';
import { deliver, deliverMessages, messagesInbound, messagesStatus, receiptFor, vonageMessageId, type ReceiptOptions } from './webhooks';

export interface LoopbackAccount {
  apiKey: string;
  apiSecret: string;
  /** Balance in EUR; each part costs `pricePerPart`. */
  balance: number;
  /** A demo (trial) account sends only to these numbers; others get status 29. Unset: any number. */
  testNumbers?: string[];
  /** Requests per rolling second this key may make, as Vonage enforces (30 by default there); beyond it, status 1. Unset: no limit. */
  ratePerSecond?: number;
  /** A Vonage Application of this account, for the Messages API's JWT auth: its ID and public key (PEM). */
  applicationId?: string;
  publicKey?: string;
  /** The currency the account is billed in, as the Pricing API names it: EUR unless set. */
  currency?: string;
}

/** One network of a country, as the Pricing API answers it (every value a string). */
export interface PricingNetwork {
  type: string;
  price: string;
  currency: string;
  mcc: string;
  mnc: string;
  networkCode: string;
  networkName: string;
}

/** One country's SMS prices, as `GET /account/get-pricing/outbound/sms` answers them (every value a string). */
export interface PricingCountry {
  countryCode: string;
  countryName: string;
  countryDisplayName: string;
  currency: string;
  defaultPrice: string;
  dialingPrefix: string;
  networks: PricingNetwork[];
}

/** How the Pricing API fails when it is down: a 503 page, a dropped connection, or a 200 that is not JSON. */
export type PricingOutage = 'http-503' | 'drop' | 'not-json';

type Network = [type: string, price: number, mcc: string, mnc: string, name: string];

/** Plausible SMS prices in EUR (not Vonage's: the loopback's own), for a few countries. */
const PRICES: Record<string, { name: string; prefix: string; defaultPrice: number; networks: Network[] }> = {
  GB: {
    name: 'United Kingdom',
    prefix: '44',
    defaultPrice: 0.0333,
    networks: [
      ['mobile', 0.0333, '234', '10', 'Telefonica UK Limited'],
      ['mobile', 0.0333, '234', '15', 'Vodafone Limited'],
      ['mobile', 0.035, '234', '30', 'EE Limited'],
      ['mobile', 0.0333, '234', '20', 'Hutchison 3G UK Ltd'],
    ],
  },
  DE: {
    name: 'Germany',
    prefix: '49',
    defaultPrice: 0.075,
    networks: [
      ['mobile', 0.075, '262', '01', 'Telekom Deutschland GmbH'],
      ['mobile', 0.0762, '262', '02', 'Vodafone GmbH'],
      ['mobile', 0.0741, '262', '03', 'Telefonica Germany GmbH & Co. oHG'],
    ],
  },
  FR: {
    name: 'France',
    prefix: '33',
    defaultPrice: 0.0688,
    networks: [
      ['mobile', 0.0688, '208', '01', 'Orange'],
      ['mobile', 0.0688, '208', '10', 'SFR'],
      ['mobile', 0.0702, '208', '20', 'Bouygues Telecom'],
      ['mobile', 0.0688, '208', '15', 'Free Mobile'],
    ],
  },
  US: {
    name: 'United States',
    prefix: '1',
    defaultPrice: 0.0079,
    networks: [
      ['mobile', 0.0079, '310', '260', 'T-Mobile USA, Inc.'],
      ['mobile', 0.0079, '311', '480', 'Verizon Wireless'],
      ['mobile', 0.0081, '310', '410', 'AT&T Mobility'],
    ],
  },
  CA: { name: 'Canada', prefix: '1', defaultPrice: 0.0062, networks: [['mobile', 0.0059, '302', '530', 'Keewaytinook Okimakanak']] },
  ES: {
    name: 'Spain',
    prefix: '34',
    defaultPrice: 0.0655,
    networks: [
      ['mobile', 0.0655, '214', '07', 'Telefonica Moviles Espana'],
      ['mobile', 0.0655, '214', '01', 'Vodafone Spain'],
    ],
  },
};

export type Fault =
  | { kind: 'throttle'; waitMs?: number }
  | { kind: 'status'; status: string; errorText?: string }
  /** The SMS is accepted but its last part is refused with this status (a long SMS's partial failure). */
  | { kind: 'partial'; status: string; errorText?: string }
  | { kind: 'http'; code: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'drop' }
  | { kind: 'not-json' }
  /**
   * A half-answer: the API carries the request out (recorded exactly as a normal one: accepted, parts
   * counted and charged, message ids), then a gateway in front of it answers instead: a 502 with an empty
   * body, a 504 with an HTML page, or a dropped connection. What the API itself refused stays refused.
   */
  | { kind: 'accepted-then'; answer: HalfAnswer };

export type HalfAnswer = 'http-502-empty' | 'http-504-html' | 'drop';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  contentType: string;
  /** Query and body parameters merged, as strings. */
  params: Record<string, string>;
  /** How the credentials came: `basic`, `body`, `jwt` (Messages API), or `none`. */
  auth: 'basic' | 'body' | 'jwt' | 'none';
  apiKey?: string;
  /** The answer: status of the first part, or the fault that answered instead. */
  outcome: string;
  /** The fault injected into this request, if any (a slow one still answers). */
  fault?: Fault['kind'];
  /** When it arrived (ms since the epoch). */
  at: number;
  /** What the SMS API answered, when it answered one. */
  response?: SmsApiAnswer;
  /** What the Messages API answered 202. */
  accepted?: { message_uuid: string };
}

export interface SmsApiAnswer {
  'message-count': string;
  messages: Record<string, string>[];
}

const PRICE_PER_PART = 0.0333;
const NETWORK = '23410';
const MAX_TEXT = 3200;

function flatten(source: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value !== null) out[key] = typeof value === 'string' ? value : String(value);
  }
  return out;
}

function failure(status: string, errorText: string): SmsApiAnswer {
  return { 'message-count': '1', messages: [{ status, 'error-text': errorText }] };
}

export class LoopbackVonageSmsApi {
  readonly requests: RecordedRequest[] = [];
  private readonly accounts = new Map<string, LoopbackAccount>();
  /** Per API key, when its recent requests were let through: the rolling second of the rate limit. */
  private readonly recent = new Map<string, number[]>();
  private readonly faults: Fault[] = [];
  /** Plain HTTP, until `listen` is given a key and certificate. */
  private server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(accounts: LoopbackAccount[] = []) {
    for (const account of accounts) this.addAccount(account);
    this.server = this.serve(http.createServer());
  }

  private serve<S extends http.Server>(server: S): S {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((err) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    // For HTTPS, the TCP socket under each TLS connection: destroyed by close() all the same.
    server.on('connection', (socket: import('node:net').Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  /** Deliver a "delivered" receipt to the callback of every SMS accepted with one (npm start). */
  autoReceipts = false;

  /** Told of every receipt delivered, with the webhook's HTTP status. */
  onReceipt?: (url: string, receipt: Record<string, string>, status: number) => void;

  /**
   * Sends a delivery receipt for each accepted part of each SMS sent (or of `only`), to `url` or to
   * the SMS's own callback; resolves with the HTTP statuses.
   */
  async deliverReceipts(options: ReceiptOptions & { url?: string; only?: RecordedRequest } = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (const request of options.only ? [options.only] : this.sent) {
      const target = options.url ?? request.params.callback;
      if (!target || !request.response) continue;
      const sent = { to: request.params.to, from: request.params.from, clientRef: request.params['client-ref'], apiKey: request.apiKey };
      for (const part of request.response.messages.filter((m) => m.status === '0')) {
        const receipt = receiptFor(sent, part as { 'message-id': string }, options);
        const status = await deliver(target, receipt, options.transport ?? 'POST-json');
        this.onReceipt?.(target, receipt, status);
        statuses.push(status);
      }
    }
    return statuses;
  }

  addAccount(account: LoopbackAccount): void {
    this.accounts.set(account.apiKey, { ...account });
  }

  account(apiKey: string): LoopbackAccount | undefined {
    return this.accounts.get(apiKey);
  }

  /** Faults answer the next requests to /sms/json and /v1/messages, one each, in order. */
  injectFaults(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Every `every`th request to /sms/json and /v1/messages (counted from now, when no injected fault is due) gets the next of `faults`, in turn. */
  injectEvery(every: number, ...faults: Fault[]): void {
    this.recurring = { every, faults, count: 0, next: 0 };
  }

  private recurring: { every: number; faults: Fault[]; count: number; next: number } | undefined;

  /** The fault for this request: an injected one first, else a recurring one when its turn comes. */
  private nextFault(): Fault | undefined {
    const injected = this.faults.shift();
    if (injected) return injected;
    const r = this.recurring;
    if (!r || r.faults.length === 0) return undefined;
    r.count += 1;
    if (r.count % r.every !== 0) return undefined;
    return r.faults[r.next++ % r.faults.length];
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.recurring = undefined;
    this.recent.clear();
    this.pricingRequests.length = 0;
    this.pricingOutage = undefined;
    this.prices.clear();
    this.pricingRecent.clear();
    this.pricingOnePerSecond = false;
  }

  /** The Pricing API's requests, apart from `requests` (which stays what was sent, or asked of the account API). */
  readonly pricingRequests: RecordedRequest[] = [];
  /** Enforce the Pricing API's documented limit: one request a second per API key, else 429. Off by default. */
  pricingOnePerSecond = false;
  private pricingOutage: PricingOutage | undefined;
  /** Prices set by a test, by country: they replace (or add to) the built-in ones. */
  private readonly prices = new Map<string, PricingCountry | null>();
  private readonly pricingRecent = new Map<string, number>();

  /** The Pricing API down (a 503 page unless said otherwise) until `pricingDown(false)`; the rest answers as ever. */
  pricingDown(down: boolean | PricingOutage = true): void {
    this.pricingOutage = down === true ? 'http-503' : down === false ? undefined : down;
  }

  /**
   * Sets a country's price (in the account's currency) for the Pricing API: a default price for one part,
   * and each network's (one mobile network at the default price unless given); null: the country unknown.
   */
  setPrice(country: string, price: number | null, networks?: Array<{ price: number; name?: string; mcc?: string; mnc?: string }>): void {
    const code = country.toUpperCase();
    if (price === null) {
      this.prices.set(code, null);
      return;
    }
    const known = PRICES[code];
    this.prices.set(code, {
      countryCode: code,
      countryName: known?.name ?? code,
      countryDisplayName: known?.name ?? code,
      currency: 'EUR',
      defaultPrice: price.toFixed(8),
      dialingPrefix: known?.prefix ?? '',
      networks: (networks ?? [{ price }]).map((n, i) => ({
        type: 'mobile',
        price: n.price.toFixed(8),
        currency: 'EUR',
        mcc: n.mcc ?? '999',
        mnc: n.mnc ?? String(i + 1).padStart(2, '0'),
        networkCode: `${n.mcc ?? '999'}${n.mnc ?? String(i + 1).padStart(2, '0')}`,
        networkName: n.name ?? `Network ${i + 1}`,
      })),
    });
  }

  /** A country's prices as the Pricing API answers them, in `currency`; undefined for a country it does not know. */
  pricingOf(country: string, currency = 'EUR'): PricingCountry | undefined {
    const set = this.prices.get(country);
    if (set === null) return undefined;
    if (set) return { ...set, currency, networks: set.networks.map((n) => ({ ...n, currency })) };
    const known = PRICES[country];
    if (!known) return undefined;
    return {
      countryCode: country,
      countryName: known.name,
      countryDisplayName: known.name,
      currency,
      defaultPrice: known.defaultPrice.toFixed(8),
      dialingPrefix: known.prefix,
      networks: known.networks.map(([type, price, mcc, mnc, networkName]) => ({ type, price: price.toFixed(8), currency, mcc, mnc, networkCode: `${mcc}${mnc}`, networkName })),
    };
  }

  /** The SMS requests Vonage would have accepted (status 0). */
  get sent(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/sms/json' && r.outcome === '0');
  }

  /** The Messages API requests accepted (202). */
  get sentMessages(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/v1/messages' && r.outcome === 'HTTP 202');
  }

  /**
   * Listens on `host`:`port` (a free port by default); with `tls` (a PEM key and certificate), over HTTPS.
   * Resolves with `url`.
   */
  async listen(port = 0, host = '127.0.0.1', options: { tls?: { key: string | Buffer; cert: string | Buffer } } = {}): Promise<string> {
    if (options.tls) this.server = this.serve(https.createServer({ key: options.tls.key, cert: options.tls.cert }));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://loopback');
    const raw = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();

    if (url.pathname.startsWith('/_loopback/')) return this.control(url, req.method ?? 'GET', raw, res);
    if (url.pathname.startsWith('/account/get-pricing/')) return this.answerPricing(url, req, res);

    let params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (raw) {
      if (contentType === 'application/json') {
        try {
          params = { ...params, ...flatten(JSON.parse(raw)) };
        } catch {
          return this.json(res, 400, { error: 'body is not JSON' });
        }
      } else {
        params = { ...params, ...Object.fromEntries(new URLSearchParams(raw)) };
      }
    }

    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      contentType,
      params,
      auth: 'none',
      outcome: '',
      at: Date.now(),
    };
    this.requests.push(record);

    if (url.pathname === '/account/get-balance' && req.method === 'GET') return this.answerBalance(record, res);
    if (url.pathname === '/v1/messages') return this.answerMessages(record, raw, req, res);
    if (url.pathname !== '/sms/json') {
      record.outcome = 'HTTP 404';
      return this.json(res, 404, { type: 'NOT_FOUND', title: 'Not found' });
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      record.outcome = 'HTTP 405';
      return this.json(res, 405, { error: 'method not allowed' });
    }

    const fault = this.nextFault();
    if (fault) {
      record.fault = fault.kind;
      record.outcome = `fault ${fault.kind}`;
      const answered = await this.faultAnswered(fault, req, res, {
        // The SMS API documents no HTTP error body; the same host's account API answers errors as
        // `{"error-code","error-code-label"}` (its 401), which is what Vonage's own 5xx is taken to be.
        http: (code) => this.json(res, code, { 'error-code': String(code), 'error-code-label': http.STATUS_CODES[code] ?? 'Error' }),
        throttle: (waitMs) => this.json(res, 200, failure('1', `Throughput Rate Exceeded - please wait [ ${waitMs} ] and retry`)),
        status: (status, errorText) => this.json(res, 200, failure(status, errorText ?? 'Internal Error')),
      });
      if (answered) return;
    }

    const answer = this.answerSms(record);
    if (fault?.kind === 'partial' && answer.messages[0].status === '0') {
      answer.messages[answer.messages.length - 1] = { status: fault.status, 'error-text': fault.errorText ?? 'Internal Error' };
    }
    record.outcome = answer.messages[0].status;
    record.response = answer;
    if (fault?.kind === 'accepted-then') this.halfAnswer(fault.answer, req, res);
    else this.json(res, 200, answer);
    if (this.autoReceipts && record.outcome === '0' && record.params.callback) {
      setTimeout(() => void this.deliverReceipts({ only: record }).catch(() => {}), 200);
    }
  }

  /**
   * The Messages API (MESSAGES-API-NOTES §1–§3, messages-openapi.yml): POST /v1/messages with Basic or
   * JWT (RS256) auth; 202 `{message_uuid}`; 401, 402 and 429 as problem details
   * (`application/problem+json`), 429 with `Retry-After` and the `X-RateLimit-*` headers; 422 as
   * `application/json` with `invalid_parameters` where the spec has them. Faults as for /sms/json.
   */
  private async answerMessages(record: RecordedRequest, raw: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // A half-answer: whatever the API answers below (202 and all), the gateway's answer goes instead.
    let half: HalfAnswer | undefined;
    const send = (status: number, body: object, contentType = 'application/problem+json', headers: Record<string, string> = {}) => {
      record.outcome = `HTTP ${status}`;
      if (half) return this.halfAnswer(half, req, res);
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'X-Request-Id': crypto.randomUUID(), ...headers });
      res.end(text);
    };
    const problem = (status: number, anchor: string, title: string, detail?: string, extra: object = {}, contentType?: string) =>
      send(status, { type: `https://developer.vonage.com/api-errors/messages#${anchor}`, title, ...(detail ? { detail } : {}), instance: crypto.randomUUID().replace(/-/g, ''), ...extra }, contentType);
    const invalid = (name: string, reason: string) => problem(422, '1150', 'Invalid params', 'The value of one or more parameters is invalid.', { invalid_parameters: [{ name, reason }] }, 'application/json');
    if (req.method !== 'POST') return problem(405, '1000', 'Method Not Allowed');

    const fault = this.nextFault();
    if (fault) {
      record.fault = fault.kind;
      record.outcome = `fault ${fault.kind}`;
      if (fault.kind === 'accepted-then') half = fault.answer;
      const answered = await this.faultAnswered(fault, req, res, {
        // 422 is the one refusal the spec sends as application/json, with the parameters at fault.
        http: (code) => (code === 422 ? invalid('text', 'is required.') : problem(code, String(code), http.STATUS_CODES[code] ?? 'Error')),
        throttle: (waitMs) => this.throttled(send, 30, waitMs),
        status: (_status, errorText) => problem(500, '1030', 'Internal Error', errorText),
      });
      if (answered) return;
    }

    // Basic with the key and secret, or a JWT signed with an Application's private key.
    const authorization = record.headers.authorization ?? '';
    let account: LoopbackAccount | undefined;
    const bearer = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization);
    if (bearer) {
      record.auth = 'jwt';
      try {
        const header = JSON.parse(Buffer.from(bearer[1], 'base64url').toString()) as { alg?: string };
        const claims = JSON.parse(Buffer.from(bearer[2], 'base64url').toString()) as { application_id?: string; exp?: number };
        const owner = [...this.accounts.values()].find((a) => a.applicationId && a.applicationId === claims.application_id && a.publicKey);
        const verified = owner && header.alg === 'RS256' && crypto.verify('RSA-SHA256', Buffer.from(`${bearer[1]}.${bearer[2]}`), owner.publicKey!, Buffer.from(bearer[3], 'base64url'));
        if (verified && (claims.exp === undefined || claims.exp > Date.now() / 1000)) account = owner;
      } catch {
        account = undefined;
      }
    } else {
      const { apiKey, apiSecret } = this.credentialsOf(record);
      const found = apiKey ? this.accounts.get(apiKey) : undefined;
      if (found && found.apiSecret === apiSecret) account = found;
    }
    if (!account) return problem(401, 'unathorized', 'Unauthorized', 'You did not provide correct credentials.');
    record.apiKey = account.apiKey;
    if (account.balance <= 0) return problem(402, '1020', 'Payment Required', 'This request could not be performed due to your account balance being low.');
    if (account.ratePerSecond) {
      const now = record.at;
      const times = (this.recent.get(account.apiKey) ?? []).filter((t) => t > now - 1000);
      this.recent.set(account.apiKey, times);
      if (times.length >= account.ratePerSecond) return this.throttled(send, account.ratePerSecond, times[0] + 1000 - now);
      times.push(now);
    }

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return problem(422, '1000', 'Invalid JSON', 'The request body did not contain valid JSON', {}, 'application/json');
    }
    const sms = (body.sms ?? {}) as Record<string, unknown>;
    record.params = flatten({ ...body, sms: undefined, ...(sms.encoding_type ? { 'sms.encoding_type': sms.encoding_type } : {}) });
    if (body.channel !== 'sms') return problem(422, '1100', 'Invalid channel', `The channel ${JSON.stringify(body.channel)} is not supported`, {}, 'application/json');
    if (body.message_type !== 'text') return problem(422, '1140', 'Invalid message type', 'The message_type must be text for the sms channel', {}, 'application/json');
    if (typeof body.to !== 'string' || !/^\d{7,15}$/.test(body.to)) return problem(422, '110', 'Invalid recipient', 'The to number is not a valid E.164 number without + or 00', {}, 'application/json');
    const from = body.from;
    if (typeof from !== 'string' || !(/^\d{1,15}$/.test(from) || (/^[A-Za-z0-9 .&\-_+!']+$/.test(from) && from.replace(/ /g, '').length <= 11))) {
      return problem(422, '1120', 'Invalid sender', 'The from value is not a number or a sender ID', {}, 'application/json');
    }
    if (typeof body.text !== 'string' || body.text === '') return invalid('text', 'is required.');
    if ([...body.text].length > MAX_TEXT) return invalid('text', `must be at most ${MAX_TEXT} characters.`);
    if (sms.encoding_type !== undefined && !['text', 'unicode', 'auto'].includes(String(sms.encoding_type))) return invalid('sms.encoding_type', 'must be one of text, unicode, auto.');
    if (body.client_ref !== undefined && (typeof body.client_ref !== 'string' || body.client_ref.length > 100)) {
      return problem(422, '1060', 'Invalid client reference', 'The client_ref must be at most 100 characters', {}, 'application/json');
    }
    const type = sms.encoding_type === 'unicode' || (sms.encoding_type !== 'text' && /[^\p{ASCII}]/u.test(body.text)) ? 'unicode' : 'text';
    account.balance -= PRICE_PER_PART * countParts(body.text, type);
    const accepted = { message_uuid: crypto.randomUUID() };
    record.accepted = accepted;
    send(202, accepted, 'application/json');
    const webhookUrl = typeof body.webhook_url === 'string' ? body.webhook_url : undefined;
    if (this.autoReceipts && webhookUrl) {
      const status = messagesStatus({ message_uuid: accepted.message_uuid, to: body.to, from, client_ref: body.client_ref as string | undefined }, { parts: countParts(body.text, type) });
      setTimeout(
        () =>
          void deliverMessages(webhookUrl, status).then(
            (code) => this.onReceipt?.(webhookUrl, JSON.parse(status.body), code),
            () => {},
          ),
        200,
      );
    }
  }

  /**
   * Answers an injected fault as the API would: a dropped connection, an HTML page, or (by the API's own
   * answers) an HTTP error, throttling or a refusal; a slow answer only waits. True when it answered.
   */
  private async faultAnswered(
    fault: Fault,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    answer: { http(code: number): void; throttle(waitMs: number): void; status(status: string, errorText?: string): void },
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'drop':
        req.socket.destroy();
        return true;
      case 'not-json':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html><body>Service temporarily unavailable</body></html>');
        return true;
      case 'http':
        answer.http(fault.code);
        return true;
      case 'throttle':
        answer.throttle(fault.waitMs ?? 1000);
        return true;
      case 'status':
        answer.status(fault.status, fault.errorText);
        return true;
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        return res.destroyed || req.socket.destroyed;
      case 'partial':
      case 'accepted-then':
        return false;
    }
  }

  /** A gateway's answer in place of the API's, once the API carried the request out. */
  private halfAnswer(answer: HalfAnswer, req: http.IncomingMessage, res: http.ServerResponse): void {
    switch (answer) {
      case 'http-502-empty':
        res.writeHead(502, { 'Content-Length': '0' });
        res.end();
        return;
      case 'http-504-html': {
        const page = '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>';
        res.writeHead(504, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
        return;
      }
      case 'drop':
        req.socket.destroy();
    }
  }

  /** The Messages API's 429: problem details, Retry-After in seconds, X-RateLimit-Reset in ms (§3). */
  private throttled(send: (status: number, body: object, contentType?: string, headers?: Record<string, string>) => void, limit: number, waitMs: number): void {
    send(
      429,
      { type: 'https://developer.vonage.com/api-errors/messages#1000', title: 'Rate Limit Hit', detail: 'Please wait, then retry your request', instance: crypto.randomUUID().replace(/-/g, '') },
      'application/problem+json',
      { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))), 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Date.now() + waitMs) },
    );
  }

  /** The credentials of a request, from Basic auth or api_key/api_secret parameters. */
  private credentialsOf(record: RecordedRequest): { apiKey?: string; apiSecret?: string } {
    let apiKey = record.params.api_key;
    let apiSecret = record.params.api_secret;
    const basic = /^Basic\s+(.+)$/i.exec(record.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      apiKey = decoded.slice(0, colon);
      apiSecret = decoded.slice(colon + 1);
      record.auth = 'basic';
    } else if (apiKey !== undefined) {
      record.auth = 'body';
    }
    record.apiKey = apiKey;
    return { apiKey, apiSecret };
  }

  /** The account API's balance: `{"value": 3.14, "autoReload": false}` (numbers, as Vonage answers), or 401. */
  private answerBalance(record: RecordedRequest, res: http.ServerResponse): void {
    const { apiKey, apiSecret } = this.credentialsOf(record);
    const account = apiKey ? this.accounts.get(apiKey) : undefined;
    if (!account || account.apiSecret !== apiSecret) {
      record.outcome = 'HTTP 401';
      // Vonage's own 401 body; the label also names the keys this loopback accepts (never a secret), so that
      // a user of npm start who typed another key learns which one works here.
      const keys = [...this.accounts.keys()].map((key) => `"${key}"`).join(', ');
      return this.json(res, 401, { 'error-code': '401', 'error-code-label': `authentication failed: this loopback Vonage API accepts the API key ${keys}` });
    }
    record.outcome = 'HTTP 200';
    this.json(res, 200, { value: Number(account.balance.toFixed(8)), autoReload: false });
  }

  /**
   * The Pricing API (v1): `GET /account/get-pricing/outbound/sms?country=XX`, as its reference documents
   * it (see the header). Down, it answers as `pricingDown` says, before anything else.
   */
  private answerPricing(url: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      contentType: '',
      params: Object.fromEntries(url.searchParams),
      auth: 'none',
      outcome: '',
      at: Date.now(),
    };
    this.pricingRequests.push(record);
    const answer = (code: number, body?: unknown) => {
      record.outcome = `HTTP ${code}`;
      if (body === undefined) {
        res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': '0' });
        res.end();
      } else this.json(res, code, body);
    };
    switch (this.pricingOutage) {
      case 'drop':
        record.outcome = 'fault drop';
        req.socket.destroy();
        return;
      case 'not-json':
        record.outcome = 'fault not-json';
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html><body>Service temporarily unavailable</body></html>');
        return;
      case 'http-503': {
        record.outcome = 'HTTP 503';
        const page = '<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>';
        res.writeHead(503, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
        return;
      }
    }
    // Only the SMS prices are served here (sms-transit and voice are other products).
    if (url.pathname !== '/account/get-pricing/outbound/sms' || req.method !== 'GET') return answer(404);
    const { apiKey, apiSecret } = this.credentialsOf(record);
    const account = apiKey ? this.accounts.get(apiKey) : undefined;
    const currency = account?.currency ?? 'EUR';
    if (!account || account.apiSecret !== apiSecret) return answer(401, { code: '401', currency, 'error-code-label': 'authentication failed' });
    if (this.pricingOnePerSecond) {
      const last = this.pricingRecent.get(account.apiKey);
      if (last !== undefined && record.at - last < 1000) return answer(429);
      this.pricingRecent.set(account.apiKey, record.at);
    }
    const country = (url.searchParams.get('country') ?? '').trim().toUpperCase();
    const badCountry = (message: string) => answer(400, { error_title: 'Bad Request', invalid_parameters: { message, parameter: 'country' }, type: 'BAD_REQUEST' });
    if (!country) return badCountry('Is required');
    const prices = /^[A-Z]{2}$/.test(country) ? this.pricingOf(country, currency) : undefined;
    if (!prices) return badCountry('Is invalid');
    answer(200, prices);
  }

  /** The SMS API itself, once no fault answered. */
  private answerSms(record: RecordedRequest): SmsApiAnswer {
    const p = record.params;
    const { apiKey, apiSecret } = this.credentialsOf(record);

    if (!apiKey) return failure('2', 'Missing api_key');
    if (!apiSecret) return failure('2', 'Missing api_secret');
    const account = this.accounts.get(apiKey);
    if (!account || account.apiSecret !== apiSecret) return failure('4', 'Bad Credentials');
    if (account.ratePerSecond) {
      const now = record.at;
      const times = (this.recent.get(apiKey) ?? []).filter((t) => t > now - 1000);
      this.recent.set(apiKey, times);
      if (times.length >= account.ratePerSecond) {
        return failure('1', `Throughput Rate Exceeded - please wait [ ${times[0] + 1000 - now} ] and retry`);
      }
      times.push(now);
    }

    if (!p.from) return failure('2', 'Missing from param');
    if (!p.to) return failure('2', 'Missing to param');
    const type = p.type ?? 'text';
    if (!['text', 'unicode', 'binary'].includes(type)) return failure('3', 'Invalid type param');
    if (type !== 'binary' && p.text === undefined) return failure('2', 'Missing text param');
    if (!/^\d{7,15}$/.test(p.to)) return failure('3', 'Invalid to param');
    const fromOk = /^\d{1,15}$/.test(p.from) || (/^[A-Za-z0-9 .&\-_+!']{1,}$/.test(p.from) && p.from.replace(/ /g, '').length <= 11);
    if (!fromOk) return failure('3', 'Invalid from param');
    const text = p.text ?? '';
    if ([...text].length > MAX_TEXT) return failure('12', 'Message too long');
    if (account.testNumbers && !account.testNumbers.includes(p.to)) {
      return failure('29', 'Non White-listed Destination - rejected');
    }

    const parts = countParts(text, type);
    const messages: Record<string, string>[] = [];
    for (let i = 0; i < parts; i += 1) {
      account.balance -= PRICE_PER_PART;
      const message: Record<string, string> = {
        to: p.to,
        'message-id': vonageMessageId(),
        status: '0',
        'remaining-balance': account.balance.toFixed(8),
        'message-price': PRICE_PER_PART.toFixed(8),
        network: NETWORK,
      };
      if (p['client-ref']) message['client-ref'] = p['client-ref'];
      messages.push(message);
    }
    return { 'message-count': String(parts), messages };
  }

  /** Control API for other processes: the recorded requests, faults, and delivering an inbound SMS. */
  private async control(url: URL, method: string, raw: string, res: http.ServerResponse): Promise<void> {
    const body = raw ? JSON.parse(raw) : {};
    const action = url.pathname.slice('/_loopback/'.length);
    if (action === 'requests' && method === 'GET') {
      return this.json(
        res,
        200,
        this.requests.map(({ headers: _headers, ...rest }) => rest),
      );
    }
    if (action === 'requests' && method === 'DELETE') {
      this.reset();
      return this.json(res, 200, {});
    }
    if (action === 'faults' && method === 'POST') {
      this.injectFaults(...(body as Fault[]));
      return this.json(res, 200, {});
    }
    if (action === 'inbound' && method === 'POST') {
      // {url, params}: the SMS API's GET webhook; {url, messages: {from, to, text}}: the Messages API's JSON POST.
      const status = body.messages ? await deliverMessages(body.url, messagesInbound(body.messages)) : await deliver(body.url, body.params);
      return this.json(res, 200, { status });
    }
    return this.json(res, 404, { error: 'unknown control action' });
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}
