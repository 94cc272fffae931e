/**
 * What the rest of the package knows of Vonage: one client per account, for the SMS API (smsClient.ts)
 * or the Messages API (messagesClient.ts), chosen by `vonageClient`. Each maps its own answers (statuses,
 * HTTP codes, problem bodies) to a SendOutcome, so that nothing above this folder knows a Vonage code.
 * Every failure is an SmsSendError whose text says what happened and what to do; no header (the
 * Authorization header holds the API secret or a JWT) ever leaves this folder.
 */
import type { SmsRequest } from '../sms/smsRequest';
import { ProxyError } from './proxy';

/** One SMS part's result, as the SMS API writes it: every value a string. */
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

/** The SMS API's answer: one message a part. */
export interface SmsApiResponse {
  'message-count': string;
  messages: SmsApiMessage[];
}

/** The Messages API's 202 answer: the message's UUID (one for the whole text, however many parts it takes). */
export interface MessagesApiResponse {
  message_uuid: string;
  workflow_id?: string;
}

/** What Vonage answers an accepted SMS, as it wrote it: the flow gets it as msg.payload. */
export type SendResponse = SmsApiResponse | MessagesApiResponse;

export type SendFailureKind = 'status' | 'http' | 'timeout' | 'connection' | 'bad-response';

export class SmsSendError extends Error {
  constructor(
    message: string,
    readonly kind: SendFailureKind,
    /** For the node status, in a few words: "wrong API key or secret", "HTTP 500", "no answer: may have been sent"… */
    readonly shortReason: string,
    /**
     * False only when the SMS certainly was not sent: the request never reached Vonage (or not whole), or
     * Vonage refused it in its own words. What is retried always has it false (see `maybeSent`).
     */
    readonly mayHaveBeenSent: boolean,
    readonly status?: string,
    readonly response?: SmsApiResponse,
    /** Throttled by HTTP 429: how long Vonage asks to wait before retrying. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SmsSendError';
  }
}

/**
 * What became of one request to send an SMS:
 * - sent: every part accepted (`ids`: the message ids, or the Messages API's UUID);
 * - retry: not sent, and worth another try, after `afterMs` when Vonage names a wait; `throttled` when
 *   Vonage asked to slow down (a wait it asks for, not a fault);
 * - failed: refused, not sent; another try would be refused alike;
 * - maybe-sent: it may have reached Vonage (no answer, a connection lost after the request was written,
 *   a 5xx or an answer that is not Vonage's own, a half-accepted long SMS): never tried again blindly.
 *   A gateway in front of Vonage answers 502/504 (empty, or an HTML page) after the API may have
 *   carried the request out: only an answer in Vonage's own words proves it was not.
 */
export type SendOutcome =
  { kind: 'sent'; response: SendResponse; ids: string[] } | { kind: 'retry'; error: SmsSendError; throttled: boolean; afterMs?: number } | { kind: 'failed'; error: Error } | { kind: 'maybe-sent'; error: SmsSendError };

/** What a credentials check found: the SMS API answers with the balance, the Messages API with how it authenticates. */
export type CredentialsCheck = { balance: number; autoReload: boolean } | { api: 'messages'; jwt: boolean };

/** Why a credentials check failed, without any secret: the key and secret, the API host (unreachable, or not Vonage's), or the proxy on the way. */
export class CheckError extends Error {
  constructor(
    message: string,
    readonly blame: 'credentials' | 'host' | 'proxy',
  ) {
    super(message);
    this.name = 'CheckError';
  }
}

/** An account's way to Vonage, whichever API it speaks. */
export interface VonageClient {
  readonly api: 'sms' | 'messages';
  /** Sends one SMS (every part of it); never rejects: every failure is an outcome. */
  send(request: SmsRequest): Promise<SendOutcome>;
  /** Whether Vonage accepts the credentials, without sending anything; rejects with CheckError. */
  check(): Promise<CredentialsCheck>;
  /** Lets go of the connections kept open (the config node is closing). */
  close(): void;
}

interface TransportErrorShape {
  name?: string;
  code?: string;
  cause?: { code?: string; message?: string };
  /** Set by ApiConnection: whether the whole request was written when it failed. */
  written?: boolean;
}

/** The error code of a request that got no HTTP answer (Node's `code`, or its cause's). */
export function transportCode(err: unknown): { code?: string; timedOut: boolean; written?: boolean } {
  const e = (err ?? {}) as TransportErrorShape;
  return { code: e.cause?.code ?? e.code, timedOut: e.name === 'AbortError' || e.name === 'TimeoutError', written: e.written };
}

/** Connection errors raised before any byte of the request could have reached Vonage. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'CONNECT_TIMEOUT']);

/**
 * A request that got no HTTP answer: no answer in time, or a connection that failed before the request
 * was written whole (nothing was sent) or after (it may have been): Node's errors, with their `code`, and
 * ApiConnection's `written` mark. Without the mark (another transport), only the codes that come before
 * any connection count as "not sent".
 */
export function transportFailure(err: unknown, host: string, timeoutMs: number, to: string): SmsSendError {
  // The proxy refused, or was out of reach: nothing reached Vonage. A refusal for want of the right user
  // and password (407) or of permission (403) would come again: not retried; the rest may pass.
  if (err instanceof ProxyError) {
    const final = err.status === 407 || err.status === 403;
    const short = err.status ? `proxy refused (HTTP ${err.status})` : `cannot reach the proxy${err.code ? ` (${err.code})` : ''}`;
    return new SmsSendError(`${err.message}; the SMS to ${to} was not sent`, final ? 'http' : 'connection', short, false);
  }
  const { code, timedOut, written } = transportCode(err);
  if (timedOut && written === false && code !== 'CONNECT_TIMEOUT') {
    return new SmsSendError(
      `the request to the Vonage API at ${host} could not be written within ${timeoutMs / 1000} s; the SMS to ${to} was not sent`,
      'connection',
      'cannot reach the API host (not written in time)',
      false,
    );
  }
  if (code === 'CONNECT_TIMEOUT') {
    return new SmsSendError(`no connection to the Vonage API at ${host} within ${timeoutMs / 1000} s; the SMS to ${to} was not sent`, 'connection', 'cannot reach the API host (no connection in time)', false);
  }
  if (timedOut) {
    return new SmsSendError(
      `no answer from the Vonage API at ${host} within ${timeoutMs / 1000} s for the SMS to ${to}; it may have been sent: check before sending again`,
      'timeout',
      'no answer: may have been sent',
      true,
    );
  }
  if (code && NOT_SENT_CODES.has(code)) {
    return new SmsSendError(`could not connect to the Vonage API at ${host} (${code}); the SMS to ${to} was not sent`, 'connection', `cannot reach the API host (${code})`, false);
  }
  if (written === false) {
    return new SmsSendError(
      `the connection to the Vonage API at ${host} failed${code ? ` (${code})` : ''} before the SMS to ${to} was written; it was not sent`,
      'connection',
      `connection lost${code ? ` (${code})` : ''} before sending`,
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

/**
 * Whether a failed SMS may have reached Vonage: the one rule for the flow (`msg.sms.maybeSent`) and for
 * any code that must not send it again blindly. True for the `maybe-sent` outcomes (no answer, a
 * connection lost after the request was written, a gateway's 502/504 or an unreadable answer, a long
 * SMS with some parts accepted); false for every other failure, which certainly sent nothing.
 */
export function maybeSent(err: unknown): boolean {
  return err instanceof SmsSendError && err.mayHaveBeenSent;
}

/**
 * What a send came to: sent, with its ids; or, for a failure, what the API's own `retry` says of it
 * (throttling, Vonage's own refusals), else what both APIs share: a connection refused, or lost before
 * the request was written, is retried; what may have been sent never is; the rest failed.
 * Only what provably was not carried out is ever retried: every retried error has mayHaveBeenSent false.
 */
export async function outcomeOf<R extends SendResponse>(answer: Promise<R>, idsOf: (response: R) => string[], retry: (error: SmsSendError) => SendOutcome | undefined): Promise<SendOutcome> {
  let response: R;
  try {
    response = await answer;
  } catch (err) {
    if (!(err instanceof SmsSendError)) return { kind: 'failed', error: err as Error };
    if (err.mayHaveBeenSent) return { kind: 'maybe-sent', error: err };
    const retried = retry(err);
    if (retried) return retried;
    if (err.kind === 'connection') return { kind: 'retry', error: err, throttled: false };
    return { kind: 'failed', error: err };
  }
  return { kind: 'sent', response, ids: idsOf(response) };
}
