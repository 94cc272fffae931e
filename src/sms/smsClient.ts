/**
 * One Vonage SMS API client per account, built on @vonage/server-sdk.
 *
 * Every failure comes out as an SmsSendError whose text says what happened and what to do.
 * The SDK's own errors never leave this module: its VetchError carries the request's
 * `Authorization` header, which holds the API secret.
 */
import { Vonage } from '@vonage/server-sdk';
import { describeStatus } from './vonageStatus';

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

/** The error label of a refused request's JSON body ("authentication failed"), at most 200 characters. */
async function apiWords(response: { text?: () => Promise<string> } | undefined): Promise<string> {
  try {
    const body = JSON.parse((await response?.text?.()) ?? '') as Record<string, unknown>;
    const label = body['error-code-label'] ?? body.title ?? body.detail;
    return typeof label === 'string' ? label.slice(0, 200) : '';
  } catch {
    return '';
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

/**
 * The SDK answers with every key twice, kebab-case as Vonage sent it and camelCase.
 * Vonage's own keys never contain a capital, so keep only those: the response as the API wrote it.
 */
function asApiResponse(data: unknown): SmsApiResponse | undefined {
  if (!data || typeof data !== 'object' || !Array.isArray((data as { messages?: unknown }).messages)) {
    return undefined;
  }
  const pick = (source: object): Record<string, unknown> =>
    Object.fromEntries(Object.entries(source).filter(([key]) => !/[A-Z]/.test(key)));
  const response = pick(data) as unknown as SmsApiResponse;
  response.messages = (data as { messages: object[] }).messages.map((m) => pick(m) as SmsApiMessage);
  return response;
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

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  cause?: { code?: string; message?: string };
  config?: unknown;
  response?: { status?: number; statusText?: string };
  getResponse?: () => unknown;
}

/** Connection errors raised before any byte of the request could have reached Vonage. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_INVALID_URL', 'bad port']);

function translateSdkError(err: unknown, account: VonageAccount, to: string): SmsSendError {
  const e = (err ?? {}) as SdkErrorShape;
  if (typeof e.getResponse === 'function') {
    const response = asApiResponse(e.getResponse());
    if (response) return statusFailure(response, to);
  }
  // A VetchError (its name is plain 'Error'): an HTTP answer the SDK would not accept.
  const isVetchError = e.config !== undefined && e.response !== undefined;
  if (isVetchError && typeof e.response?.status === 'number' && e.response.status >= 300) {
    const { status, statusText } = e.response as { status: number; statusText?: string };
    return new SmsSendError(
      `the Vonage API at ${account.restHost} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} to the SMS to ${to}` +
        (status >= 500 ? ': a server error; the SMS may or may not have been sent' : ''),
      'http',
      `HTTP ${status}`,
      status >= 500,
    );
  }
  if (isVetchError) {
    return new SmsSendError(
      `the Vonage API at ${account.restHost} answered with a body that could not be read, for the SMS to ${to}; it may have been sent`,
      'bad-response',
      'unreadable answer: may have been sent',
      true,
    );
  }
  return transportFailure(e, account.restHost, account.timeoutMs, to);
}

/**
 * A request that got no HTTP answer: no answer in time, or a connection that failed before sending
 * (nothing was sent) or after (it may have been). For the SDK's errors and for fetch's alike.
 */
export function transportFailure(err: unknown, host: string, timeoutMs: number, to: string): SmsSendError {
  const e = (err ?? {}) as SdkErrorShape;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') {
    return new SmsSendError(
      `no answer from the Vonage API at ${host} within ${timeoutMs / 1000} s for the SMS to ${to}; it may have been sent: check before sending again`,
      'timeout',
      'no answer: may have been sent',
      true,
    );
  }
  // fetch refuses some ports outright ('bad port') before connecting.
  const code = e.cause?.code ?? e.code ?? (e.cause?.message === 'bad port' ? 'bad port' : undefined);
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
  private readonly vonage: Vonage;

  readonly account: VonageAccount;

  constructor(account: VonageAccount) {
    // The SDK joins restHost and path as strings: a trailing slash would give //sms/json.
    this.account = { ...account, restHost: account.restHost.replace(/\/+$/, '') };
    this.vonage = new Vonage(
      // privateKey '': the SDK's Auth calls fs.existsSync(privateKey), and Node.js 24 warns about undefined.
      { apiKey: account.apiKey, apiSecret: account.apiSecret, privateKey: '' },
      { restHost: this.account.restHost, timeout: account.timeoutMs },
    );
  }

  /**
   * The account balance in EUR, from the account API on the same host: the way to check that the
   * key and secret are right without sending anything. Rejects with a BalanceError that names no
   * secret and says whether the credentials or the host are to blame.
   */
  async balance(): Promise<{ value: number; autoReload: boolean }> {
    const host = this.account.restHost;
    let data: { value?: unknown; autoReload?: unknown };
    try {
      data = (await this.vonage.accounts.getBalance()) as typeof data;
    } catch (err) {
      const e = (err ?? {}) as SdkErrorShape & { response?: { text?: () => Promise<string> } };
      const status = e.config !== undefined ? e.response?.status : undefined;
      if (status === 401) {
        const said = await apiWords(e.response);
        throw new BalanceError(`the Vonage API at ${host} refused this API key and secret (HTTP 401${said ? `: "${said}"` : ''})`, 'credentials');
      }
      if (status) throw new BalanceError(`the API host ${host} answered HTTP ${status} to the balance check: it may not be a Vonage API host`, 'host');
      const code = e.cause?.code ?? e.code;
      if (e.name === 'AbortError' || e.name === 'TimeoutError') throw new BalanceError(`no answer from the API host ${host} within ${this.account.timeoutMs / 1000} s`, 'host');
      if (code) throw new BalanceError(`could not connect to the API host ${host} (${code})`, 'host');
      throw new BalanceError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    }
    if (typeof data?.value !== 'number') throw new BalanceError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    return { value: data.value, autoReload: data.autoReload === true };
  }

  /** Resolves with the API response when every part was accepted; rejects with SmsSendError. */
  async send(request: SmsRequest): Promise<SmsApiResponse> {
    let data: unknown;
    try {
      const params = {
        to: request.to,
        from: request.from,
        text: request.text,
        type: request.type,
        // The SDK turns camelCase keys into Vonage's kebab-case: clientRef → client-ref.
        ...(request.callback ? { callback: request.callback } : {}),
        ...(request.clientRef ? { clientRef: request.clientRef } : {}),
      };
      data = await this.vonage.sms.send(params as Parameters<Vonage['sms']['send']>[0]);
    } catch (err) {
      throw translateSdkError(err, this.account, request.to);
    }
    const response = asApiResponse(data);
    if (!response) {
      throw new SmsSendError(
        `the Vonage API at ${this.account.restHost} did not answer with an SMS API JSON response for the SMS to ${request.to}; it may have been sent`,
        'bad-response',
        'unreadable answer: may have been sent',
        true,
      );
    }
    if (response.messages.some((m) => m.status !== '0')) throw statusFailure(response, request.to);
    return response;
  }
}
