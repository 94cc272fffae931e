/**
 * The Vonage SMS API client, one per account: `POST {restHost}/sms/json` and `GET /account/get-balance`
 * (API-NOTES §1), with HTTP Basic auth and a JSON body as @vonage/server-sdk sends them, on a kept-open
 * connection of Node's own (apiConnection.ts), without the SDK's 19 packages (BENCHMARKS.md, footprint).
 * It maps the API's per-part statuses (smsStatus.ts) to a SendOutcome (client.ts).
 */
import { ApiConnection, type ApiAnswer } from './apiConnection';
import { CheckError, outcomeOf, SmsSendError, transportCode, transportFailure, type SendOutcome, type SmsApiResponse, type VonageClient } from './client';
import { describeStatus } from './smsStatus';
import { ProxyError, proxyFor, type ProxySettings } from './proxy';
import type { SmsRequest } from '../sms/smsRequest';

export interface VonageAccount {
  apiKey: string;
  apiSecret: string;
  /** e.g. `https://rest.nexmo.com`, or the loopback API's `http://127.0.0.1:PORT`. */
  restHost: string;
  timeoutMs: number;
  /** The account's proxy settings (proxy.ts): whether this host is reached through one is decided here. */
  proxy?: ProxySettings;
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
  return new SmsSendError(`Vonage refused ${which} to ${to}: status ${first.status}, ${meaning}: ${advice}${said}${rest}`, 'status', short, failed.length < parts, first.status, response);
}

/** The wait Vonage names in a status 1 answer: "please wait [ 978 ] and retry". */
export function throttleWaitMs(errorText: string | undefined): number | undefined {
  const match = /wait\s*\[\s*(\d+)\s*\]/i.exec(errorText ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The account API's error body on the SMS API's host (`{"error-code":"401","error-code-label":"authentication
 * failed"}`), when a 5xx answer is one: Vonage's own words, so its platform answered and refused.
 */
function accountApiError(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const { 'error-code': code, 'error-code-label': label } = data as Record<string, unknown>;
  if ((typeof code !== 'string' && typeof code !== 'number') || typeof label !== 'string') return undefined;
  return label.slice(0, 200);
}

/**
 * What a send came to, in the SMS API's terms. Retried, as not carried out: throttling (status 1, or HTTP
 * 429) after the wait Vonage names; statuses 5 and 10 when no part was accepted; a 5xx in Vonage's own
 * words (see `submit`); a connection refused, or lost before the request was written. Never retried,
 * as it may have been carried out (outcomeOf makes these `maybe-sent`): any other 5xx (a gateway's 502
 * or 504, empty or HTML), an unreadable answer, no answer, a connection lost after writing, and a long
 * SMS of which any part was accepted (its parts would go twice).
 */
export function smsApiOutcome(answer: Promise<SmsApiResponse>): Promise<SendOutcome> {
  return outcomeOf(
    answer,
    (response) => response.messages.map((m) => m['message-id'] ?? ''),
    (error) => {
      // outcomeOf hands over only what was not carried out (mayHaveBeenSent false): no part was accepted.
      if (error.kind === 'status' && error.status === '1') {
        return { kind: 'retry', error, throttled: true, afterMs: throttleWaitMs(error.response?.messages.find((m) => m.status === '1')?.['error-text']) };
      }
      if (error.kind === 'http' && error.status === '429') return { kind: 'retry', error, throttled: true, afterMs: error.retryAfterMs };
      if (error.kind === 'status' && (error.status === '5' || error.status === '10')) return { kind: 'retry', error, throttled: false };
      if (error.kind === 'http' && Number(error.status) >= 500) return { kind: 'retry', error, throttled: false };
      return undefined;
    },
  );
}

export class VonageSmsClient implements VonageClient {
  readonly api = 'sms';
  readonly account: VonageAccount;
  private readonly authorization: string;
  private readonly connection: ApiConnection;

  constructor(account: VonageAccount) {
    this.account = { ...account, restHost: account.restHost.replace(/\/+$/, '') };
    this.authorization = `Basic ${Buffer.from(`${account.apiKey}:${account.apiSecret}`).toString('base64')}`;
    this.connection = new ApiConnection(this.account.restHost, account.timeoutMs, proxyFor(this.account.restHost, account.proxy));
  }

  private request(path: string, body?: string): Promise<ApiAnswer> {
    return body === undefined
      ? this.connection.request('GET', path, { Authorization: this.authorization, Accept: 'application/json' })
      : this.connection.request('POST', path, { Authorization: this.authorization, 'Content-Type': 'application/json', Accept: 'application/json' }, body);
  }

  close(): void {
    this.connection.close();
  }

  /** The credentials checked by asking the balance: nothing is sent. */
  check(): Promise<{ balance: number; autoReload: boolean }> {
    return this.balance().then(({ value, autoReload }) => ({ balance: value, autoReload }));
  }

  send(request: SmsRequest): Promise<SendOutcome> {
    return smsApiOutcome(this.submit(request));
  }

  /**
   * The account balance in EUR, from the account API on the same host: the way to check that the
   * key and secret are right without sending anything. Rejects with a CheckError that names no
   * secret and says whether the credentials or the host are to blame.
   */
  async balance(): Promise<{ value: number; autoReload: boolean }> {
    const host = this.account.restHost;
    let answer: ApiAnswer;
    try {
      answer = await this.request('/account/get-balance');
    } catch (err) {
      if (err instanceof ProxyError) throw new CheckError(err.message, 'proxy');
      const { code, timedOut } = transportCode(err);
      if (timedOut) throw new CheckError(`no answer from the API host ${this.connection.where} within ${this.account.timeoutMs / 1000} s`, 'host');
      if (code) throw new CheckError(`could not connect to the API host ${this.connection.where} (${code})`, 'host');
      throw new CheckError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    }
    const { status, json } = answer;
    if (status === 401) {
      const label = (json as Record<string, unknown> | undefined)?.['error-code-label'];
      const said = typeof label === 'string' ? label.slice(0, 200) : '';
      throw new CheckError(`the Vonage API at ${host} refused this API key and secret (HTTP 401${said ? `: "${said}"` : ''})`, 'credentials');
    }
    if (status < 200 || status >= 300) throw new CheckError(`the API host ${host} answered HTTP ${status} to the balance check: it may not be a Vonage API host`, 'host');
    const data = json as { value?: unknown; autoReload?: unknown } | undefined;
    if (typeof data?.value !== 'number') throw new CheckError(`the API host ${host} did not answer with an account balance: it may not be a Vonage API host`, 'host');
    return { value: data.value, autoReload: data.autoReload === true };
  }

  /** Resolves with the API response when every part was accepted; rejects with SmsSendError. */
  async submit(request: SmsRequest): Promise<SmsApiResponse> {
    const host = this.account.restHost;
    // Vonage's own names (kebab-case), as the SDK sends them.
    const params: Record<string, string> = { to: request.to, from: request.from, text: request.text, type: request.type };
    if (request.callback) params.callback = request.callback;
    if (request.clientRef) params['client-ref'] = request.clientRef;
    let answer: ApiAnswer;
    try {
      answer = await this.request('/sms/json', JSON.stringify(params));
    } catch (err) {
      throw transportFailure(err, this.connection.where, this.account.timeoutMs, request.to);
    }
    const { status, statusText, json } = answer;
    if (status >= 500) {
      // Vonage's own JSON error, which proves the request was refused, not carried out: a body in the SMS
      // API's shape with no part accepted (its statuses say why, as in a 200), or the account API's
      // `error-code`/`error-code-label`. Anything else (empty, an HTML page, other JSON) may come from a
      // gateway in front of the API, which answers 502/504 after the API may have accepted the SMS.
      const refused = asApiResponse(json);
      if (refused && refused.messages.every((m) => m.status !== '0')) throw statusFailure(refused, request.to);
      const label = accountApiError(json);
      const said = `the Vonage API at ${host} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} to the SMS to ${request.to}`;
      if (label !== undefined) throw new SmsSendError(`${said} (Vonage said: "${label}"): a server error at Vonage; the SMS was not sent`, 'http', `HTTP ${status}`, false, String(status));
      throw new SmsSendError(`${said}, not in Vonage's own words (a gateway's answer): the SMS may have been sent: check before sending again`, 'http', `HTTP ${status}: may have been sent`, true, String(status));
    }
    if (status >= 300 || status < 200) {
      throw new SmsSendError(`the Vonage API at ${host} answered HTTP ${status}${statusText ? ` ${statusText}` : ''} to the SMS to ${request.to}`, 'http', `HTTP ${status}`, false, String(status));
    }
    const response = asApiResponse(json);
    if (!response) {
      throw new SmsSendError(`the Vonage API at ${host} did not answer with an SMS API JSON response for the SMS to ${request.to}; it may have been sent`, 'bad-response', 'unreadable answer: may have been sent', true);
    }
    if (response.messages.some((m) => m.status !== '0')) throw statusFailure(response, request.to);
    return response;
  }
}
