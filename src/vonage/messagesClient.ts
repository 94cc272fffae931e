/**
 * The Vonage Messages API for SMS (MESSAGES-API-NOTES §1–§4): `POST {host}/v1/messages`, on a kept-open
 * connection of Node's own (apiConnection.ts). Basic auth with the API key and secret, or a JWT (RS256, the Application's private key)
 * when an Application ID and private key are set; the webhook signature secret never takes part.
 * Every failure comes out as an SmsSendError whose text says what happened and what to do, built
 * from the problem details Vonage answers with; no header (which holds the secret or the JWT) ever
 * leaves this module.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiConnection, type ApiAnswer } from './apiConnection';
import { CheckError, outcomeOf, SmsSendError, transportFailure, type MessagesApiResponse, type SendOutcome, type VonageClient } from './client';
import type { SmsRequest } from '../sms/smsRequest';
import { ProxyError, proxyFor, type ProxySettings } from './proxy';

export interface MessagesAccount {
  apiKey: string;
  apiSecret: string;
  /** e.g. `https://api.nexmo.com`, a regional host, or the loopback API's `http://127.0.0.1:PORT`. */
  host: string;
  timeoutMs: number;
  /** Both set: JWT auth with the Application; else Basic. */
  applicationId?: string;
  privateKey?: string;
  /** The account's proxy settings (proxy.ts). */
  proxy?: ProxySettings;
}

export const DEFAULT_MESSAGES_HOST = 'https://api.nexmo.com';
export const MESSAGES_HOSTS = [DEFAULT_MESSAGES_HOST, 'https://api-eu.nexmo.com', 'https://api-us.nexmo.com', 'https://api-ap.nexmo.com'];

/** A JWT lives 15 minutes (the SDK's default); a new one is made after 10. */
const JWT_TTL_SECONDS = 900;
const JWT_REUSE_MS = 600_000;

/**
 * A PEM private key as pasted: a password field drops its line breaks, and a key from a `.env` file or a
 * secret store may have them written as `\n`, so the body is wrapped again.
 * Throws an Error that never quotes the key.
 */
export function privateKeyOf(text: string): crypto.KeyObject {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text.trim());
  // Line breaks written as the two characters \n (or \r\n), as .env files and secret stores hold a key, count as breaks.
  const body = match?.[2].replace(/\\r|\\n/g, '\n');
  const pem = match
    ? `-----BEGIN ${match[1]}-----\n${body!
        .replace(/\s+/g, '')
        .replace(/(.{64})/g, '$1\n')
        .replace(/\n$/, '')}\n-----END ${match[1]}-----\n`
    : text;
  try {
    const key = crypto.createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return key;
  } catch {
    throw new Error('the Private key is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- …), as the Vonage dashboard gives it for the Application');
  }
}

/** Problem details (RFC 7807) in a few words: "Invalid params: The value of one or more parameters is invalid (text: is required.)". */
function problemWords(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const { title, detail, invalid_parameters: invalid } = body as { title?: unknown; detail?: unknown; invalid_parameters?: unknown };
  const parts = [title, detail].filter((p): p is string => typeof p === 'string' && p !== '').map((p) => p.slice(0, 200));
  const params = Array.isArray(invalid)
    ? invalid
        .slice(0, 5)
        .map((p: { name?: unknown; reason?: unknown }) => `${String(p?.name ?? '').slice(0, 40)}: ${String(p?.reason ?? '').slice(0, 100)}`)
        .join('; ')
    : '';
  return `${parts.join(': ')}${params ? ` (${params})` : ''}`;
}

/** What each refusal means and what to do, by HTTP status (branch on the status, never on the number in `type`: §3). */
function refusal(status: number, jwt: boolean): { advice: string; short: string } {
  switch (status) {
    case 401:
      return jwt
        ? { advice: 'the Application ID or private key is wrong, or the Application lacks the Messages capability: check them on the Vonage account (nexmobasic)', short: 'wrong Application or private key' }
        : { advice: 'the API key or secret is wrong, or the account cannot use the Messages API: check them on the Vonage account (nexmobasic)', short: 'wrong API key or secret' };
    case 402:
      return { advice: 'the account has too little credit: top it up in the Vonage dashboard', short: 'low balance' };
    case 403:
      return { advice: 'this account may not send this message: check the account and number settings in the Vonage dashboard', short: 'not allowed' };
    case 404:
      return { advice: 'the API host does not serve the Messages API: check the API host on the Vonage account (nexmobasic)', short: 'not found: check the API host' };
    case 422:
      return { advice: 'Vonage refused the request as invalid: check To, From and Text', short: 'invalid request' };
    case 429:
      return { advice: 'you are sending faster than your account allows: the send queue retries after the wait Vonage names', short: 'throttled' };
    default:
      return status >= 500 ? { advice: 'a server error at Vonage, in its own words: the SMS was not sent', short: `HTTP ${status}` } : { advice: 'an answer this package does not know', short: `HTTP ${status}` };
  }
}

/** How long a 429 asks to wait: Retry-After (seconds), else X-RateLimit-Reset (a time, in s or ms: §3). */
function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const after = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(after) && after >= 0) return Math.min(after * 1000, 60_000);
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  const at = reset > 1e12 ? reset : reset * 1000;
  return Math.min(Math.max(0, at - Date.now()), 60_000);
}

/**
 * Whether an error answer is the Messages API's own problem details (MESSAGES-API-NOTES §3: every refusal
 * but 422 is `application/problem+json`, an RFC 7807 `ErrorResponse` with `type` and `title`): Vonage's
 * platform answered and refused. A gateway in front of it answers 502/504 empty or as an HTML page.
 */
function isVonageProblem(headers: IncomingHttpHeaders, body: unknown): boolean {
  const type = String(headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/problem+json' || !body || typeof body !== 'object') return false;
  const { type: link, title } = body as { type?: unknown; title?: unknown };
  return typeof link === 'string' && link !== '' && typeof title === 'string' && title !== '';
}

/**
 * What a send came to, in the Messages API's terms. Retried, as not carried out: throttling (HTTP 429)
 * after its Retry-After; a 5xx in Vonage's own problem details; a connection refused, or lost before the
 * request was written. Never retried, as it may have been carried out (outcomeOf makes these
 * `maybe-sent`): any other 5xx (a gateway's 502 or 504, empty or HTML), an unreadable 2xx, no answer,
 * a connection lost after writing.
 */
export function messagesApiOutcome(answer: Promise<MessagesApiResponse>): Promise<SendOutcome> {
  return outcomeOf(
    answer,
    (response) => [response.message_uuid],
    (error) => {
      // outcomeOf hands over only what was not carried out (mayHaveBeenSent false).
      if (error.kind === 'http' && error.status === '429') return { kind: 'retry', error, throttled: true, afterMs: error.retryAfterMs };
      if (error.kind === 'http' && Number(error.status) >= 500) return { kind: 'retry', error, throttled: false };
      return undefined;
    },
  );
}

export class VonageMessagesClient implements VonageClient {
  readonly api = 'messages';
  readonly account: MessagesAccount;
  private readonly key: crypto.KeyObject | undefined;
  private readonly basic: string;
  private token: { value: string; madeAt: number } | undefined;
  private readonly connection: ApiConnection;

  /** Throws an Error (never quoting a secret) when the private key cannot be read. */
  constructor(account: MessagesAccount) {
    this.account = { ...account, host: account.host.replace(/\/+$/, '') };
    this.key = account.applicationId && account.privateKey ? privateKeyOf(account.privateKey) : undefined;
    this.basic = `Basic ${Buffer.from(`${account.apiKey}:${account.apiSecret}`).toString('base64')}`;
    this.connection = new ApiConnection(this.account.host, account.timeoutMs, proxyFor(this.account.host, account.proxy));
  }

  close(): void {
    this.connection.close();
  }

  get usesJwt(): boolean {
    return this.key !== undefined;
  }

  private authorization(): string {
    if (!this.key) return this.basic;
    const now = Date.now();
    if (this.token && now - this.token.madeAt < JWT_REUSE_MS) return this.token.value;
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const iat = Math.floor(now / 1000);
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ application_id: this.account.applicationId, iat, jti: crypto.randomUUID(), exp: iat + JWT_TTL_SECONDS })}`;
    const value = `Bearer ${unsigned}.${crypto.sign('RSA-SHA256', Buffer.from(unsigned), this.key).toString('base64url')}`;
    this.token = { value, madeAt: now };
    return value;
  }

  private postRaw(body: object): Promise<ApiAnswer> {
    return this.connection.request('POST', '/v1/messages', { Authorization: this.authorization(), 'Content-Type': 'application/json', Accept: 'application/json' }, JSON.stringify(body));
  }

  private async post(body: object, to: string): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
    try {
      return await this.postRaw(body);
    } catch (err) {
      throw transportFailure(err, this.connection.where, this.account.timeoutMs, to);
    }
  }

  send(request: SmsRequest): Promise<SendOutcome> {
    return messagesApiOutcome(this.submit(request));
  }

  /** Resolves with the 202 answer; rejects with SmsSendError. */
  async submit(request: SmsRequest): Promise<MessagesApiResponse> {
    const body = {
      message_type: 'text',
      channel: 'sms',
      to: request.to,
      from: request.from,
      text: request.text,
      sms: { encoding_type: request.type === 'unicode' ? 'unicode' : 'text' },
      ...(request.clientRef ? { client_ref: request.clientRef } : {}),
      ...(request.callback ? { webhook_url: request.callback } : {}),
    };
    const { status, headers, json } = await this.post(body, request.to);
    const host = this.account.host;
    if (status === 202) {
      const uuid = (json as { message_uuid?: unknown } | undefined)?.message_uuid;
      if (typeof uuid === 'string' && uuid !== '') return json as MessagesApiResponse;
      throw new SmsSendError(`the Vonage API at ${host} answered 202 without a message_uuid for the SMS to ${request.to}; it may have been sent`, 'bad-response', 'unreadable answer: may have been sent', true);
    }
    if (status >= 200 && status < 300) {
      throw new SmsSendError(`the Vonage API at ${host} answered HTTP ${status}, not 202, for the SMS to ${request.to}; it may have been sent`, 'bad-response', 'unreadable answer: may have been sent', true);
    }
    if (status >= 500 && !isVonageProblem(headers, json)) {
      throw new SmsSendError(
        `the Vonage Messages API at ${host} answered HTTP ${status} to the SMS to ${request.to}, not in Vonage's own words (a gateway's answer): the SMS may have been sent: check before sending again`,
        'http',
        `HTTP ${status}: may have been sent`,
        true,
        String(status),
      );
    }
    const { advice, short } = refusal(status, this.usesJwt);
    const said = problemWords(json);
    throw new SmsSendError(
      `the Vonage Messages API at ${host} refused the SMS to ${request.to}: HTTP ${status}${said ? ` ${said}` : ''}: ${advice}`,
      'http',
      short,
      false,
      String(status),
      undefined,
      status === 429 ? retryAfterMs(headers) : undefined,
    );
  }

  /**
   * Whether Vonage accepts these credentials, without sending anything: an empty message is refused
   * as invalid (422) once the credentials pass, and as unauthorised (401) when they do not. No answer,
   * or one that is not the Messages API's, blames the host.
   */
  async check(): Promise<{ api: 'messages'; jwt: boolean }> {
    let answer: { status: number; json: unknown };
    try {
      answer = await this.postRaw({});
    } catch (err) {
      if (err instanceof ProxyError) throw new CheckError(err.message, 'proxy');
      throw new CheckError(transportFailure(err, this.connection.where, this.account.timeoutMs, 'nobody').message, 'host');
    }
    const { status, json } = answer;
    if (status === 422 || status === 400) return { api: 'messages', jwt: this.usesJwt };
    const said = problemWords(json);
    if (status === 401) throw new CheckError(`the Vonage Messages API at ${this.account.host} refused these credentials (HTTP 401${said ? `: "${said}"` : ''})`, 'credentials');
    throw new CheckError(`the API host ${this.account.host} answered HTTP ${status} to a credentials check: it may not be a Vonage Messages API host`, 'host');
  }
}
