/**
 * The Messages API's webhooks for SMS (MESSAGES-API-NOTES §5, §6, messages-openapi.yml
 * `inboundMessageSMS`, `messageStatusSMS`): JSON with nested objects, checked field by field and
 * object by object before anything reaches state, a template or a loop, as the SMS API's forms are
 * (webhookFields.ts). The fields the rest of SMS in and SMS receipt use (who sent what, the id, the
 * status) are then read into the SMS API's names, so retries, long-SMS handling and opt-outs work alike.
 */
import { MAX_OTHER_FIELDS, MAX_OTHER_NAME, MAX_OTHER_VALUE, MESSAGE_ID, OTHER_NAME, PHONE_NUMBER, sender, UNSAFE_NAMES, type FieldRule, type WebhookParams } from '../sms/webhookFields';

export type MessagesKind = 'inbound' | 'status';
export type MessagesBody = Record<string, unknown>;

/** The Messages API joins a long SMS itself: at most 255 parts of at most 160 characters. */
export const MAX_MESSAGES_TEXT = 255 * 160;

type Shape = { [name: string]: FieldRule | { object: Shape } | { list: Shape; max: number } };

const text = (max: number, required = false): FieldRule => ({ pattern: new RegExp(`^[\\s\\S]{0,${max}}$`, 'u'), expected: `at most ${max} characters`, required });
const ISO_TIME: FieldRule = { pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/, expected: 'an ISO 8601 time such as 2025-02-03T12:14:25Z' };
const DIGITS = (max: number): FieldRule => ({ pattern: new RegExp(`^\\d{1,${max}}$`), expected: `a whole number of at most ${max} digits` });
const PRICE: FieldRule = { pattern: /^-?\d{1,10}(?:\.\d{1,12})?$/, expected: 'a decimal number' };
const NETWORK: Shape = { network_code: { pattern: /^[0-9A-Za-z-]{0,16}$/, expected: 'a network code (MCCMNC)' } };
const USAGE: Shape = { price: PRICE, currency: { pattern: /^[A-Z]{3}$/, expected: 'a currency code such as EUR' } };
const COMMON: Shape = {
  message_uuid: { ...MESSAGE_ID, expected: 'a message UUID', required: true },
  channel: { pattern: /^[a-z_]{1,20}$/, expected: 'a channel such as sms', required: true },
  timestamp: ISO_TIME,
  message_type: { pattern: /^[a-z_]{1,20}$/, expected: 'a message type such as text' },
  usage: { object: USAGE },
};

const SHAPES: Record<MessagesKind, Shape> = {
  inbound: {
    ...COMMON,
    to: PHONE_NUMBER,
    from: { ...sender(7), required: true },
    text: text(MAX_MESSAGES_TEXT, true),
    sms: { object: { num_messages: DIGITS(3), keyword: text(MAX_MESSAGES_TEXT) } },
    origin: { object: NETWORK },
  },
  status: {
    ...COMMON,
    to: PHONE_NUMBER,
    from: { ...sender(3), required: true },
    status: { pattern: /^[a-z_]{1,20}$/, expected: 'a status such as delivered or rejected', required: true },
    client_ref: text(100),
    error: {
      object: {
        type: { pattern: /^[\x21-\x7e]{0,256}$/, expected: 'a URL of at most 256 characters' },
        title: text(64),
        detail: text(512),
        instance: { pattern: /^[0-9A-Za-z-]{0,64}$/, expected: 'an id of at most 64 letters and digits' },
      },
    },
    destination: { object: NETWORK },
    sms: {
      object: {
        count_total: DIGITS(3),
        segments: { list: { timestamp: ISO_TIME, status: { pattern: /^[a-z_]{1,20}$/, expected: 'a status' }, error_code: DIGITS(5) }, max: 255 },
      },
    },
    workflow: { object: { workflow_id: { pattern: /^[0-9A-Za-z_-]{0,128}$/, expected: 'a workflow id' }, items_number: DIGITS(3), items_total: DIGITS(3) } },
  },
};

/** A JSON body in the Messages API's format (it has message_uuid and channel), not an SMS API webhook. */
export function isMessagesWebhook(body: unknown): body is MessagesBody {
  return !!body && typeof body === 'object' && !Array.isArray(body) && 'message_uuid' in body && 'channel' in body;
}

const isRule = (entry: Shape[string]): entry is FieldRule => 'pattern' in entry;

/** What is wrong with an object of this shape, or undefined; `path` names it in the answer. */
function checkObject(value: unknown, shape: Shape, path: string): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return `${path || 'the body'} must be a JSON object`;
  let others = 0;
  for (const [name, field] of Object.entries(value)) {
    const where = path ? `${path}.${name.slice(0, MAX_OTHER_NAME)}` : name.slice(0, MAX_OTHER_NAME);
    if (UNSAFE_NAMES.has(name) || !OTHER_NAME.test(name)) return `the field name ${JSON.stringify(where)} is not allowed`;
    const entry = Object.hasOwn(shape, name) ? shape[name] : undefined;
    if (!entry) {
      // A field Vonage does not document: a few short plain values, nothing nested.
      others += 1;
      if (others > MAX_OTHER_FIELDS) return `too many fields in ${path || 'the body'}: at most ${MAX_OTHER_FIELDS} besides Vonage's own`;
      if (field !== null && typeof field === 'object') return `${where} must be text, not a list or an object`;
      if (String(field).length > MAX_OTHER_VALUE) return `${where} is longer than ${MAX_OTHER_VALUE} characters`;
      continue;
    }
    if (isRule(entry)) {
      if (field === null || field === '') continue;
      if (typeof field !== 'string') return `${where} must be text`;
      if (!entry.pattern.test(field)) return `${where} must be ${entry.expected}`;
    } else if ('object' in entry) {
      const wrong = checkObject(field, entry.object, where);
      if (wrong) return wrong;
    } else {
      if (!Array.isArray(field) || field.length > entry.max) return `${where} must be a list of at most ${entry.max}`;
      for (const [i, item] of field.entries()) {
        const wrong = checkObject(item, entry.list, `${where}[${i}]`);
        if (wrong) return wrong;
      }
    }
  }
  const missing = Object.entries(shape)
    .filter(([name, entry]) => isRule(entry) && entry.required && !(value as MessagesBody)[name])
    .map(([name]) => (path ? `${path}.${name}` : name));
  return missing.length ? `missing ${missing.join(', ')}` : undefined;
}

/** What is wrong with the webhook, in words for its 400 answer; undefined when nothing is. */
export function checkMessagesWebhook(kind: MessagesKind, body: MessagesBody): string | undefined {
  return checkObject(body, SHAPES[kind], '');
}

const field = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The SMS API's names for what SMS in and SMS receipt use, from a checked webhook: the sender is
 * `msisdn` and the id `messageId` (inbound); the recipient is `msisdn`, and the error's code is
 * `err-code` (status). `api-key` comes from the signature's claims, when the webhook was signed.
 */
export function legacyFieldsOf(kind: MessagesKind, body: MessagesBody, apiKey?: string): WebhookParams {
  const params = Object.create(null) as WebhookParams;
  const set = (name: string, value: string) => {
    if (value !== '') params[name] = value;
  };
  set('messageId', field(body.message_uuid));
  set('api-key', apiKey ?? '');
  if (kind === 'inbound') {
    set('msisdn', field(body.from));
    set('to', field(body.to));
    set('text', field(body.text));
    set('keyword', field((body.sms as MessagesBody | undefined)?.keyword));
  } else {
    set('msisdn', field(body.to));
    set('to', field(body.from));
    set('status', field(body.status));
    set('err-code', field((body.error as MessagesBody | undefined)?.title));
    set('client-ref', field(body.client_ref));
  }
  return params;
}

/** A Messages API timestamp as ISO 8601 in UTC, or undefined when it is none. */
export function messagesTime(timestamp: unknown): string | undefined {
  if (typeof timestamp !== 'string' || !ISO_TIME.pattern.test(timestamp)) return undefined;
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
