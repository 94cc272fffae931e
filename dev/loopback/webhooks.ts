/**
 * What Vonage sends *to* you, for the tests and npm start: inbound SMS (split into parts with the
 * concat fields, in any order, repeated, signed with any of the five methods) and delivery receipts,
 * over any of the three transports. Signing is written here from API-NOTES §4, apart from the
 * package's own verifier.
 */
import crypto from 'node:crypto';

export type Transport = 'GET' | 'POST-form' | 'POST-json';
export type SigningMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface Signing {
  secret: string;
  method: SigningMethod;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
}

/** Adds timestamp, nonce and sig as Vonage does for a signed webhook. */
export function sign(params: Record<string, string>, signing: Signing): Record<string, string> {
  const withTime = { ...params, timestamp: String(signing.timestamp ?? Math.floor(Date.now() / 1000)), nonce: crypto.randomUUID() };
  const text = Object.keys(withTime)
    .sort()
    .map((k) => `&${k}=${withTime[k as keyof typeof withTime].replace(/&|=/g, '_')}`)
    .join('');
  const sig =
    signing.method === 'md5hash'
      ? crypto
          .createHash('md5')
          .update(text + signing.secret)
          .digest('hex')
      : crypto.createHmac(signing.method, signing.secret).update(text).digest('hex').toUpperCase();
  return { ...withTime, sig };
}

/** One webhook request; resolves with the HTTP status. */
export async function deliver(url: string, params: Record<string, string>, transport: Transport = 'GET'): Promise<number> {
  const target = new URL(url);
  let init: RequestInit = { method: 'GET' };
  if (transport === 'GET') for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  else if (transport === 'POST-form') init = { method: 'POST', body: new URLSearchParams(params) };
  else init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) };
  const response = await fetch(target, init);
  await response.arrayBuffer();
  return response.status;
}

/** A message id as Vonage writes them: 16 upper-case hex digits. */
export function vonageMessageId(): string {
  return crypto.randomBytes(8).toString('hex').toUpperCase();
}

function vonageTimestamp(date = new Date()): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export interface InboundSmsOptions {
  transport?: Transport;
  /** Split the text into parts of this many characters (a long SMS); unset: one request. */
  partLength?: number;
  /** The order the parts go in, 1-based (e.g. [3, 1, 2]); unset: in order. */
  order?: number[];
  /** Send every request this many times (Vonage's retries). */
  repeat?: number;
  signing?: Signing;
  apiKey?: string;
}

/** The requests of one inbound SMS, as Vonage would send them. */
export function inboundRequests(sms: { msisdn: string; to: string; text: string }, options: InboundSmsOptions = {}): Array<Record<string, string>> {
  const texts = options.partLength ? (sms.text.match(new RegExp(`[\\s\\S]{1,${options.partLength}}`, 'g')) ?? ['']) : [sms.text];
  const common = {
    msisdn: sms.msisdn,
    to: sms.to,
    type: /^[\x20-\x7e\n\r]*$/.test(sms.text) ? 'text' : 'unicode',
    keyword: (sms.text.trim().split(/\s+/)[0] ?? '').toUpperCase(),
    'api-key': options.apiKey ?? 'loopback',
    'message-timestamp': vonageTimestamp(),
  };
  const ref = String(Math.floor(Math.random() * 256));
  const parts = texts.map((text, i) => ({
    ...common,
    messageId: vonageMessageId(),
    text,
    ...(texts.length > 1 ? { concat: 'true', 'concat-ref': ref, 'concat-total': String(texts.length), 'concat-part': String(i + 1) } : {}),
  }));
  const ordered = (options.order ?? parts.map((_, i) => i + 1)).map((n) => parts[n - 1]);
  return ordered.map((p) => (options.signing ? sign(p, options.signing) : p));
}

/** Sends one inbound SMS; resolves with the HTTP status of every request, in the order sent. */
export async function sendInboundSms(url: string, sms: { msisdn: string; to: string; text: string }, options: InboundSmsOptions = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (const params of inboundRequests(sms, options)) {
    for (let i = 0; i < (options.repeat ?? 1); i += 1) statuses.push(await deliver(url, params, options.transport));
  }
  return statuses;
}

export interface ReceiptOptions {
  status?: string;
  errCode?: string;
  transport?: Transport;
  signing?: Signing;
}

/** The delivery receipt for one accepted part of a sent SMS. */
export function receiptFor(
  sent: { to: string; from: string; clientRef?: string; apiKey?: string },
  part: { 'message-id': string; 'message-price'?: string; network?: string },
  options: ReceiptOptions = {},
): Record<string, string> {
  const now = new Date();
  const scts = now.toISOString().slice(2, 16).replace(/[-T:]/g, '');
  const params: Record<string, string> = {
    msisdn: sent.to,
    to: sent.from,
    'network-code': part.network ?? '23410',
    messageId: part['message-id'],
    price: part['message-price'] ?? '0.03330000',
    status: options.status ?? 'delivered',
    scts,
    'err-code': options.errCode ?? '0',
    'api-key': sent.apiKey ?? 'loopback',
    'message-timestamp': vonageTimestamp(now),
    ...(sent.clientRef ? { 'client-ref': sent.clientRef } : {}),
  };
  return options.signing ? sign(params, options.signing) : params;
}

/**
 * Messages API webhooks (MESSAGES-API-NOTES §5–§7): JSON POSTs, signed with a JWT (HS256, the
 * signature secret) in the Authorization header when a secret is given. Written here from the notes,
 * apart from the package's own verifier.
 */
export interface MessagesWebhook {
  /** The body, exactly as sent (the JWT's payload_hash is over these bytes). */
  body: string;
  headers: Record<string, string>;
}

export interface MessagesSigning {
  secret: string;
  apiKey?: string;
  /** Unix seconds; defaults to now. */
  iat?: number;
  /** Sign this body's hash instead of the one sent (an altered body). */
  hashOf?: string;
}

/** `Bearer <JWT>` for a body, as Vonage signs Messages API webhooks. */
export function signMessagesWebhook(body: string, signing: MessagesSigning): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    iat: signing.iat ?? Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
    iss: 'Vonage',
    payload_hash: crypto
      .createHash('sha256')
      .update(signing.hashOf ?? body, 'utf8')
      .digest('hex'),
    api_key: signing.apiKey ?? 'loopback',
  };
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `Bearer ${unsigned}.${crypto.createHmac('sha256', signing.secret).update(unsigned).digest('base64url')}`;
}

function messagesWebhook(payload: object, signing?: MessagesSigning): MessagesWebhook {
  const body = JSON.stringify(payload);
  return { body, headers: { 'Content-Type': 'application/json', ...(signing ? { Authorization: signMessagesWebhook(body, signing) } : {}) } };
}

/** An inbound SMS in the Messages API's format: long ones arrive joined, once. */
export function messagesInbound(sms: { from: string; to: string; text: string; parts?: number; channel?: string }, signing?: MessagesSigning): MessagesWebhook {
  const word = (sms.text.trim().split(/\s+/)[0] ?? '').toUpperCase();
  return messagesWebhook(
    {
      channel: sms.channel ?? 'sms',
      message_uuid: crypto.randomUUID(),
      to: sms.to,
      from: sms.from,
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      text: sms.text,
      sms: { num_messages: String(sms.parts ?? 1), keyword: word },
      usage: { price: '0.0333', currency: 'EUR' },
      origin: { network_code: '23410' },
    },
    signing,
  );
}

/** A status webhook of the Messages API for an SMS sent (§6). */
export function messagesStatus(
  sent: { message_uuid: string; to: string; from: string; client_ref?: string },
  options: { status?: string; errorCode?: string; parts?: number; signing?: MessagesSigning } = {},
): MessagesWebhook {
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status = options.status ?? 'delivered';
  return messagesWebhook(
    {
      message_uuid: sent.message_uuid,
      to: sent.to,
      from: sent.from,
      timestamp,
      status,
      channel: 'sms',
      ...(sent.client_ref ? { client_ref: sent.client_ref } : {}),
      ...(options.errorCode
        ? { error: { type: `https://developer.vonage.com/api-errors/messages#${options.errorCode}`, title: options.errorCode, detail: 'Rejected by the loopback API', instance: crypto.randomUUID() } }
        : {}),
      usage: { currency: 'EUR', price: '0.0333' },
      destination: { network_code: '23410' },
      sms: {
        count_total: String(options.parts ?? 1),
        segments: Array.from({ length: options.parts ?? 1 }, () => ({ timestamp, status, ...(options.errorCode ? { error_code: options.errorCode } : {}) })),
      },
    },
    options.signing,
  );
}

/** One Messages API webhook; resolves with the HTTP status. */
export async function deliverMessages(url: string, webhook: MessagesWebhook): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: webhook.headers, body: webhook.body });
  await response.arrayBuffer();
  return response.status;
}
