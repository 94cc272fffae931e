/**
 * One Vonage SMS API client per account: `POST {restHost}/sms/json` and `GET /account/get-balance`
 * (API-NOTES §1), with HTTP Basic auth and a JSON body as @vonage/server-sdk sends them, on a kept-open
 * connection of Node's own (apiConnection.ts), without the SDK's 19 packages (BENCHMARKS.md, footprint).
 *
 * Every failure comes out as an SmsSendError whose text says what happened and what to do; no
 * header (the Authorization header holds the API secret) ever leaves this module.
 */
import { ApiConnection, type ApiAnswer } from './apiConnection';
import { describeStatus } from './smsStatus';

export interface VonageAccount {
  apiKey: string;
  apiSecret: string;
  /** e.g. `https://rest.nexmo.com`, or the loopback API's `http://127.0.0.1:PORT`. */
  restHost: string;
  timeoutMs: number;
}

export interface SmsRequest {
  to: string;
  from: string;
  text: string;
  type: 'text' | 'unicode';
  /** Where Vonage sends this SMS's delivery receipts, instead of the dashboard's webhook. */
  callback?: string;
  /** Comes back in the send response and every delivery receipt (`client-ref`). */
  clientRef?: string;
  /** The one confirmation of an opt-out: sent to a number on the opt-out list, by design. Never sent to Vonage. */
  confirmsOptOut?: boolean;
}

/** One SMS part's result, as the API writes it: every value a string. */
export interface SmsApiMessage {
  status: string;
  to?: string;
  'message-id'?: string;
  'remaining-balance'?: string;
  'message-price'?: string;
  network?: string;
  'error-text'?: string;
  'client-ref'?: string;
  [key: string]: unknown;
}

export interface SmsApiResponse {
  'message-count': string;
  messages: SmsApiMessage[];
}

export type SendFailureKind = 'status' | 'http' | 'timeout' | 'connection' | 'bad-response';

export class SmsSendError extends Error {
  constructor(
    message: string,
    readonly kind: SendFailureKind,
    /** For the node status, in a few words: "wrong API key or secret", "HTTP 500", "no answer: may have been sent"… */
    readonly shortReason: string,
    /** False only when the request certainly never reached Vonage. */
    readonly mayHaveBeenSent: boolean,
    readonly status?: string,
    readonly response?: SmsApiResponse,
    /** Throttled by HTTP 429 (Messages API): how long Vonage asks to wait before retrying. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SmsSendError';
  }
}

/** Why a balance check failed: the key and secret, or the API host (unreachable, or not Vonage's). */
export class BalanceError extends Error {
  constructor(message: string, readonly blame: 'credentials' | 'host') {
    super(message);
    this.name = 'BalanceError';
  }
}

export const DEFAULT_REST_HOST = 'https://rest.nexmo.com';

export function isRestHost(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

/** The response as the API wrote it, when it is one: an object with a `messages` array of objects. */
function asApiResponse(data: unknown): SmsApiResponse | undefined {
  if (!data || typeof data !== 'object' || !Array.isArray((data as { messages?: unknown }).messages)) return undefined;
  const messages = (data as { messages: unknown[] }).messages;
  if (messages.length === 0 || !messages.every((m) => m !== null && typeof m === 'object' && typeof (m as { status?: unknown }).status === 'string')) return undefined;
  return data as SmsApiResponse;
}

function statusFailure(response: SmsApiResponse, to: string): SmsSendError {
  const failed = response.messages.filter((m) => m.status !== '0');
  const first = failed[0];
  const { meaning, advice, short } = describeStatus(first.status);
  const said = first['error-text'] ? ` (Vonage said: "${first['error-text']}")` : '';
  const parts = response.messages.length;
  const which = parts > 1 ? `${failed.length} of ${parts} parts of the SMS` : 'the SMS';
  const accepted = parts - failed.length;
  const rest = accepted > 0 ? `; the other ${accepted} part${accepted > 1 ? 's were' : ' was'} accepted, so the recipient may get part of the text` : '';
  return new SmsSendError(
    `Vonage refused ${which} to ${to}: status ${first.status}, ${meaning}: ${advice}${said}${rest}`,
    'status',
    short,
    failed.length < parts,
    first.status,
    response,
  );
}

interface TransportErrorShape {
  name?: string;
  code?: string;
  cause?: { code?: string; message?: string };
}

/** Connection errors raised before any byte of the request could have reached Vonage. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'CONNECT_TIMEOUT']);

/**
 * A request that got no HTTP answer: no answer in time, or a connection that failed before sending
 * (nothing was sent) or after (it may have been): Node's errors, with their `code`.
 */
export function transportFailure(err: unknown, host: string, timeoutMs: number, to: string): SmsSendError {
  const e = (err ?? {}) as TransportErrorShape;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') {
    return new SmsSendError(
      `no answer from the Vonage API at ${host} within ${timeoutMs / 1000} s for the SMS to ${to}; it may have been sent: check before sending again`,
      'timeout',
      'no answer: may have been sent',
      true,
    );
  }
  const code = e.cause?.code ?? e.code;
  if (code === 'CONNECT_TIMEOUT') {
    return new SmsSendError(
      `no connection to the Vonage API at ${host} within ${timeoutMs / 1000} s; the SMS to ${to} was not sent`,
      'connection',
      'cannot reach the API host (no connection in time)',
      false,
    );
  }
  if (code && NOT_SENT_CODES.has(code)) {
    return new SmsSendError(
      `could not connect to the Vonage API at ${host} (${code}); the SMS to ${to} was not sent`,
      'connection',
      `cannot reach the API host (${code})`,
      false,
    );
  }
  return new SmsSendError(
    `the connection to the Vonage API at ${host} failed${code ? ` (${code})` : ''} while sending the SMS to ${to}; it may have been sent`,
    'connection',
    `connection lost${code ? ` (${code})` : ''}: may have been sent`,
    true,
  );
}

export class VonageSmsClient {
  readonly account: VonageAccount;
  private readonly authorization: string;
  private readonly connection: ApiConnection;

  constructor(account: VonageAccount) {
    this.account = { ...account, restHost: account.restHost.replace(/\/+$/, '') };
    this.authorization = `Basic ${Buffer.from(`${account.apiKey}:${account.apiSecret}`).toString('base64')}`;
    this.connection = new ApiConnection(this.account.restHost, account.timeoutMs);
  }

  private request(path: string, body?: string): Promise<ApiAnswer> {
    return body === undefined
      ? this.connection.request('GET', path, { Authorization: this.authorization, Accept: 'application/json' })
      : this.connection.request('POST', path, { Authorization: this.authorization, 'Content-Type': 'application/json', Accept: 'application/json' }, body);
  }

  /** Lets go of the connections kept open (the config node is closing). */
  close(): void {
    this.connection.close();
  }

  /**
   * The account balance in EUR, from the account API on the same host: the way to check that the
   * key and secret are right without sending anything. Rejects with a BalanceError that names no
   * secret and says whether the credentials or the host are to blame.
   */
  async balance(): Promise<{ value: number; autoReload: boolean }> {
    const host = this.account.restHost;
    let answer: ApiAnswer;
    try {
      answer = await this.request('/account/get-balance');
    } catch (err) {
      const e = (err ?? {}) as TransportErrorShape;
      const code = e.cause?.code ?? e.code;
      if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new BalanceError(`no answer from the API host ${host} within ${this.account.timeoutMs / 1000} s`, 'host');
      if (code) throw new BalanceError(`could not connect to the API host ${host} (${code})`, 'host');
      throw new BalanceError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    }
    const { status, json } = answer;
    if (status === 401) {
      const label = (json as Record<string, unknown> | undefined)?.['error-code-label'];
      const said = typeof label === 'string' ? label.slice(0, 200) : '';
      throw new BalanceError(`the Vonage API at ${host} refused this API key and secret (HTTP 401${said ? `: "${said}"` : ''})`, 'credentials');
    }
    if (status < 200 || status >= 300) throw new BalanceError(`the API host ${host} answered HTTP ${status} to the balance check: it may not be a Vonage API host`, 'host');
    const data = json as { value?: unknown; autoReload?: unknown } | undefined;
    if (typeof data?.value !== 'number') throw new BalanceError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    return { value: data.value, autoReload: data.autoReload === true };
  }

  /** Resolves with the API response when every part was accepted; rejects with SmsSendError. */
  async send(request: SmsRequest): Promise<SmsApiResponse> {
    const host = this.account.restHost;
    // Vonage's own names (kebab-case), as the SDK sends them.
    const params: Record<string, string> = { to: request.to, from: request.from, text: request.text, type: request.type };
    if (request.callback) params.callback = request.callback;
    if (request.clientRef) params['client-ref'] = request.clientRef;
    let answer: ApiAnswer;
    try {
      answer = await this.request('/sms/json', JSON.stringify(params));
    } catch (err) {
      throw transportFailure(err, host, this.account.timeoutMs, request.to);
    }
    const { status, statusText, json } = answer;
    if (status >= 300 || status < 200) {
      throw new SmsSendError(
        `the Vonage API at ${host} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} to the SMS to ${request.to}` +
          (status >= 500 ? ': a server error; the SMS may or may not have been sent' : ''),
        'http',
        `HTTP ${status}`,
        status >= 500,
        String(status),
      );
    }
    const response = asApiResponse(json);
    if (!response) {
      throw new SmsSendError(
        `the Vonage API at ${host} did not answer with an SMS API JSON response for the SMS to ${request.to}; it may have been sent`,
        'bad-response',
        'unreadable answer: may have been sent',
        true,
      );
    }
    if (response.messages.some((m) => m.status !== '0')) throw statusFailure(response, request.to);
    return response;
  }
}
