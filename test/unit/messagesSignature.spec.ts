/**
 * The Messages API's signed webhooks, checked against the test vector of MESSAGES-API-NOTES §7
 * (computed with node crypto and jsonwebtoken; HMAC re-checked with Python), and every way a token
 * can be wrong: the SDK's own verifier checks only the signature.
 */
import crypto from 'node:crypto';
import should from 'should';
import { verifyMessagesSignature } from '../../src/vonage/messagesSignature';
import { checkMessagesWebhook, legacyFieldsOf } from '../../src/vonage/messagesWebhooks';

const SECRET = 'node-red-test-signature-secret-0123456789';
const IAT = 1738584865;
const BODY =
  '{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","to":"447700900000","from":"447700900001","timestamp":"2025-02-03T12:14:25Z","text":"Hello From Vonage!","sms":{"num_messages":"2","keyword":"HELLO"},"usage":{"price":"0.0333","currency":"EUR"},"origin":{"network_code":"12345"}}';
const TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3Mzg1ODQ4NjUsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6ImVjNzIyNDg5NTA4N2RhOTk5ZDRkNWZhMmQyODRiYmEyNzE4MmVkNGRiMDdjOGRlMGZlODBhMmNiMjJjM2M0ODEiLCJhcGlfa2V5IjoiYTFiMmMzZCIsImFwcGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEyMzQ1Njc4OWFiIn0.8dk24AkP8GHJbuEpMVfPfM37CLWRjHuUYoCv6nA3_Eg';

function token(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, secret = SECRET): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part(header)}.${part(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

describe('Messages API signed webhooks', () => {
  it('accepts the test vector of the notes, within its time, and reads its claims', () => {
    should(BODY.length).equal(299);
    should(crypto.createHash('sha256').update(BODY).digest('hex')).equal('ec7224895087da999d4d5fa2d284bba27182ed4db07c8de0fe80a2cb22c3c481');
    const verdict = verifyMessagesSignature(`Bearer ${TOKEN}`, BODY, SECRET, 300, IAT + 60);
    should(verdict.ok).be.true();
    should((verdict as { claims: Record<string, unknown> }).claims).have.properties({ api_key: 'a1b2c3d', iss: 'Vonage', iat: IAT });
  });

  it('refuses the same token too late or too early, with another secret, over another body, or without Bearer', () => {
    should(verifyMessagesSignature(`Bearer ${TOKEN}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'stale' });
    should(verifyMessagesSignature(`Bearer ${TOKEN}`, BODY, SECRET, 300, IAT - 301)).eql({ ok: false, reason: 'stale' });
    should(verifyMessagesSignature(`Bearer ${TOKEN}`, BODY, `${SECRET}x`, 300, IAT)).eql({ ok: false, reason: 'mismatch' });
    should(verifyMessagesSignature(`Bearer ${TOKEN}`, BODY.replace('Hello', 'Hallo'), SECRET, 300, IAT)).eql({ ok: false, reason: 'mismatch' });
    // Vonage's own sample hashes JSON.stringify(parsed): the same bytes here, a different hash once reformatted.
    should(verifyMessagesSignature(`Bearer ${TOKEN}`, JSON.stringify(JSON.parse(BODY), null, 1), SECRET, 300, IAT)).eql({ ok: false, reason: 'mismatch' });
    for (const header of [undefined, '', TOKEN, `Basic ${TOKEN}`, `Bearer ${TOKEN}x.y`, 'Bearer a.b']) {
      should(verifyMessagesSignature(header, BODY, SECRET, 300, IAT).ok).be.false(String(header));
    }
  });

  it('refuses a token signed with another algorithm, none, or without a payload hash or an iat', () => {
    const hash = crypto.createHash('sha256').update(BODY).digest('hex');
    const now = Math.floor(Date.now() / 1000);
    should(verifyMessagesSignature(`Bearer ${token({ iat: now, payload_hash: hash })}`, BODY, SECRET, 300).ok).be.true();
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iat: now, payload_hash: hash })).toString('base64url')}.`;
    should(verifyMessagesSignature(`Bearer ${none}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'unsigned' });
    should(verifyMessagesSignature(`Bearer ${token({ iat: now, payload_hash: hash }, { alg: 'HS384' })}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'mismatch' });
    should(verifyMessagesSignature(`Bearer ${token({ iat: now })}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'mismatch' });
    should(verifyMessagesSignature(`Bearer ${token({ iat: String(now), payload_hash: hash })}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'stale' });
    should(verifyMessagesSignature(`Bearer ${token({ payload_hash: hash })}`, BODY, SECRET, 300)).eql({ ok: false, reason: 'stale' });
  });
});

describe('Messages API webhook fields', () => {
  const inbound = () => JSON.parse(BODY) as Record<string, unknown>;

  it("takes the inbound SMS of the notes, and reads the SMS API's names from it", () => {
    should(checkMessagesWebhook('inbound', inbound())).be.undefined();
    should(legacyFieldsOf('inbound', inbound(), 'a1b2c3d')).eql(
      Object.assign(Object.create(null), { messageId: 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab', 'api-key': 'a1b2c3d', msisdn: '447700900001', to: '447700900000', text: 'Hello From Vonage!', keyword: 'HELLO' }),
    );
  });

  it('refuses what Vonage never sends, naming the field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ text: { a: 1 } }, /^text must be text$/],
      [{ sms: 'x' }, /^sms must be a JSON object$/],
      [{ sms: { num_messages: '2', extra: { deep: true } } }, /^sms\.extra must be text, not a list or an object$/],
      [{ usage: { price: 'free' } }, /^usage\.price must be a decimal number$/],
      [{ from: '' }, /^missing from$/],
      [{ to: '+447700900000' }, /^to must be a phone number/],
      [{ timestamp: 'yesterday' }, /^timestamp must be an ISO 8601 time/],
      [{ text: 'x'.repeat(40_801) }, /^text must be at most 40800 characters$/],
      [{ ['__proto__']: 'x' }, /not allowed/],
      [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`extra${i}`, 'x'])), /^too many fields in the body/],
      [{ mine: 'x'.repeat(257) }, /^mine is longer than 256 characters$/],
    ];
    for (const [change, pattern] of cases) {
      const body = Object.assign(inbound(), change);
      if (Object.hasOwn(change, '__proto__')) Object.defineProperty(body, '__proto__', { value: 'x', enumerable: true });
      should(checkMessagesWebhook('inbound', body)).match(pattern, JSON.stringify(change).slice(0, 60));
    }
  });

  it('takes the status webhook of the notes, with its segments, and reads recipient, status and error code', () => {
    const status = {
      message_uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab',
      to: '447700900000',
      from: '447700900001',
      timestamp: '2025-02-03T12:14:25Z',
      status: 'rejected',
      channel: 'sms',
      client_ref: 'abc123',
      error: {
        type: 'https://developer.vonage.com/api-errors/messages#1000',
        title: '1000',
        detail: 'Throttled - You have exceeded the submission capacity allowed on this account. Please wait and retry',
        instance: 'bf0ca0bf927b3b52e3cb03217e1a1ddf',
      },
      usage: { currency: 'EUR', price: '0.0333' },
      destination: { network_code: '12345' },
      sms: {
        count_total: '2',
        segments: [
          { timestamp: '2025-02-03T12:14:25Z', status: 'delivered' },
          { timestamp: '2025-02-03T12:14:25Z', status: 'rejected', error_code: '1230' },
        ],
      },
    };
    should(checkMessagesWebhook('status', status)).be.undefined();
    should(legacyFieldsOf('status', status)).have.properties({ msisdn: '447700900000', to: '447700900001', status: 'rejected', 'err-code': '1000', 'client-ref': 'abc123' });
    should(checkMessagesWebhook('status', { ...status, sms: { segments: Array(256).fill({ status: 'delivered' }) } })).match(/^sms\.segments must be a list of at most 255$/);
    should(checkMessagesWebhook('status', { ...status, sms: { segments: [{ status: 'delivered', x: [] }] } })).match(/^sms\.segments\[0\]\.x must be text/);
  });
});
