/**
 * What a Vonage webhook may carry, field by field (API-NOTES §2, §3 and sms-openapi.yml), checked
 * before anything reaches state, a template or a loop: anyone who finds the URL can send anything.
 * Every value is a string of bounded length and of the form Vonage writes; a field Vonage does not
 * document may come along (query parameters of the user's own, say), but only a few, short ones.
 */
import { receivedAt } from './webhookTime';

export type WebhookParams = Record<string, string>;

export interface FieldRule {
  /** The whole value must match; the pattern also bounds its length. */
  pattern: RegExp;
  /** Said in the 400 answer: what the value should have been. */
  expected: string;
  required?: boolean;
}

export interface WebhookSchema {
  fields: Record<string, FieldRule>;
  /** Checks across fields, once each field is of its form; returns what is wrong. */
  check?(params: WebhookParams): string | undefined;
}

/** Vonage's long SMS have at most 255 parts (one octet in the concatenation header). */
export const MAX_LONG_SMS_PARTS = 255;
/** A part holds at most 160 characters; some carriers join parts themselves. Ten SMS' worth is plenty. */
export const MAX_INBOUND_TEXT = 1600;
/** Fields Vonage does not document: at most this many, with names and values this short. */
export const MAX_OTHER_FIELDS = 20;
export const MAX_OTHER_NAME = 40;
export const MAX_OTHER_VALUE = 256;

export const PHONE_NUMBER: FieldRule = { pattern: /^\d{7,15}$/, expected: 'a phone number: 7 to 15 digits', required: true };
/** A phone number of at least `minDigits`, or an alphanumeric sender ID of up to 11 characters with a letter. */
export function sender(minDigits: number): FieldRule {
  return {
    pattern: new RegExp(`^(?:\\d{${minDigits},15}|(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 .&_+!'-]{1,11})$`),
    expected: `a phone number (${minDigits} to 15 digits) or a sender ID of at most 11 letters and digits`,
  };
}
export const MESSAGE_ID: FieldRule = { pattern: /^[0-9A-Za-z-]{1,40}$/, expected: 'a Vonage message id: up to 40 letters and digits', required: true };
const TIMESTAMP: FieldRule = { pattern: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/, expected: 'a UTC time written YYYY-MM-DD HH:MM:SS' };

/** Fields every webhook may carry: the account, and a signed webhook's timestamp, nonce and signature. */
const COMMON: Record<string, FieldRule> = {
  'api-key': { pattern: /^[0-9A-Za-z]{1,32}$/, expected: 'an API key: up to 32 letters and digits' },
  'message-timestamp': TIMESTAMP,
  timestamp: { pattern: /^\d{1,12}$/, expected: 'Unix seconds' },
  nonce: { pattern: /^[\x21-\x7e]{1,64}$/, expected: 'up to 64 printable characters' },
  sig: { pattern: /^[0-9A-Fa-f]{32,128}$/, expected: 'a hexadecimal signature' },
};

const SMALL_NUMBER = /^\d{1,3}$/;

/** An inbound SMS (SMS API): `msisdn` sent `text` to your number `to`. */
export const INBOUND_SMS: WebhookSchema = {
  fields: {
    ...COMMON,
    msisdn: { ...sender(7), required: true },
    to: PHONE_NUMBER,
    messageId: MESSAGE_ID,
    text: { pattern: new RegExp(`^[\\s\\S]{0,${MAX_INBOUND_TEXT}}$`, 'u'), expected: `at most ${MAX_INBOUND_TEXT} characters` },
    type: { pattern: /^[a-z-]{1,20}$/, expected: 'text, unicode or binary' },
    keyword: { pattern: new RegExp(`^[\\s\\S]{0,${MAX_INBOUND_TEXT}}$`, 'u'), expected: `at most ${MAX_INBOUND_TEXT} characters` },
    concat: { pattern: /^(?:true|false)$/, expected: 'true or false' },
    'concat-ref': { pattern: /^[0-9A-Za-z-]{1,32}$/, expected: 'a reference: up to 32 letters and digits' },
    'concat-total': { pattern: SMALL_NUMBER, expected: `a whole number from 1 to ${MAX_LONG_SMS_PARTS}` },
    'concat-part': { pattern: SMALL_NUMBER, expected: `a whole number from 1 to ${MAX_LONG_SMS_PARTS}` },
    data: { pattern: /^[0-9A-Za-z+/=]{0,2048}$/, expected: 'hexadecimal or base64, at most 2048 characters' },
    udh: { pattern: /^[0-9A-Fa-f]{0,512}$/, expected: 'hexadecimal' },
  },
  check(params) {
    if (params.concat !== 'true') return undefined;
    for (const field of ['concat-ref', 'concat-total', 'concat-part']) if (!params[field]) return `a part of a long SMS (concat=true) needs ${field}`;
    const total = Number(params['concat-total']);
    const part = Number(params['concat-part']);
    if (total < 1 || total > MAX_LONG_SMS_PARTS) return `concat-total must be a whole number from 1 to ${MAX_LONG_SMS_PARTS}`;
    if (part < 1 || part > total) return `concat-part must be a whole number from 1 to concat-total (${total})`;
    return undefined;
  },
};

/** A delivery receipt (SMS API): what happened to the SMS `messageId` sent to `msisdn`. */
export const DELIVERY_RECEIPT: WebhookSchema = {
  fields: {
    ...COMMON,
    msisdn: { ...PHONE_NUMBER, required: false },
    // The From of the SMS sent: a short code has fewer digits than a phone number.
    to: sender(3),
    'network-code': { pattern: /^[0-9A-Za-z-]{0,16}$/, expected: 'a network code (MCCMNC)' },
    messageId: MESSAGE_ID,
    price: { pattern: /^(?:-?\d{1,10}(?:\.\d{1,12})?)?$/, expected: 'a decimal number' },
    status: { pattern: /^[a-z_-]{1,20}$/, expected: 'a status such as delivered or failed', required: true },
    scts: { pattern: /^(?:\d{10,14})?$/, expected: 'a time written YYMMDDHHMM' },
    'err-code': { pattern: /^\d{0,4}$/, expected: 'an error code: up to 4 digits' },
    'client-ref': { pattern: /^[\s\S]{0,100}$/u, expected: 'at most 100 characters' },
  },
};

/** Names that could reach an object's prototype once copied into a msg. */
export const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
export const OTHER_NAME = new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_OTHER_NAME}}$`);

/** What is wrong with the request, in words for its 400 answer; undefined when nothing is. */
export function checkWebhookFields(schema: WebhookSchema, params: WebhookParams): string | undefined {
  let others = 0;
  for (const [name, value] of Object.entries(params)) {
    const rule = Object.hasOwn(schema.fields, name) ? schema.fields[name] : undefined;
    if (rule) {
      // An empty value is as good as none: a required one is reported missing below.
      if (value === '') continue;
      if (!rule.pattern.test(value)) return `${name} must be ${rule.expected}`;
      continue;
    }
    others += 1;
    if (others > MAX_OTHER_FIELDS) return `too many fields: at most ${MAX_OTHER_FIELDS} besides Vonage's own`;
    if (UNSAFE_NAMES.has(name) || !OTHER_NAME.test(name)) return `the field name ${JSON.stringify(name.slice(0, MAX_OTHER_NAME))} is not allowed`;
    if (value.length > MAX_OTHER_VALUE) return `${name} is longer than ${MAX_OTHER_VALUE} characters`;
  }
  const missing = Object.entries(schema.fields)
    .filter(([name, rule]) => rule.required && !params[name])
    .map(([name]) => name);
  if (missing.length) return `missing ${missing.join(', ')}`;
  if (params['message-timestamp'] && receivedAt(params['message-timestamp']) === undefined) {
    return 'message-timestamp is not a real date';
  }
  return schema.check?.(params);
}
