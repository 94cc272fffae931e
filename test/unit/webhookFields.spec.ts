/**
 * The field rules of the two SMS API webhooks: what Vonage documents (API-NOTES, sms-openapi.yml)
 * and what the loopback sends passes; what no Vonage request holds does not. The hostile
 * table of docs/webhooks-and-security.md runs the attacks through a real Node-RED; this checks the rules themselves.
 */
import should from 'should';
import { inboundRequests, receiptFor } from '../../dev/loopback/webhooks';
import { quote } from '../../src/sms/quote';
import { checkWebhookFields, DELIVERY_RECEIPT, INBOUND_SMS, MAX_OTHER_FIELDS } from '../../src/sms/webhookFields';

const check = (schema: typeof INBOUND_SMS, params: Record<string, string>) => checkWebhookFields(schema, params);

describe('webhook fields', () => {
  it("passes Vonage's documented examples and signed test vector", () => {
    // API-NOTES §2 and §4; sms-openapi.yml's DeliveryReceipt example.
    should(check(INBOUND_SMS, { msisdn: '15862151111', to: '12812581111', messageId: '0B0000004B65F62F', text: 'Msg', type: 'text', keyword: 'MSG', 'message-timestamp': '2017-05-01 21:52:49' })).be.undefined();
    should(
      check(INBOUND_SMS, {
        'message-timestamp': '2013-11-21 15:27:30',
        messageId: '020000001B0FE827',
        msisdn: '14843472194',
        text: 'Test again',
        timestamp: '1385047698',
        to: '13239877404',
        type: 'text',
        nonce: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
        sig: 'd2e7b1dc968737c5998ad624e02f90b7',
      }),
    ).be.undefined();
    should(
      check(INBOUND_SMS, { msisdn: '447700900001', to: '447700900000', messageId: '0A0000000123ABCD1', text: '', type: 'binary', keyword: '', data: '0A0B0C', udh: '050003CC0201', 'api-key': 'abcd1234' }),
    ).be.undefined();
    should(
      check(DELIVERY_RECEIPT, {
        msisdn: '447700900000',
        to: 'AcmeInc',
        'network-code': '12345',
        messageId: '0A0000001234567B',
        price: '0.03330000',
        status: 'delivered',
        scts: '2001011400',
        'err-code': '0',
        'api-key': 'abcd1234',
        'client-ref': 'my-personal-reference',
        'message-timestamp': '2020-01-01 12:00:00',
        timestamp: '1582650446',
        nonce: 'ec11dd3e-1e7f-4db5-9467-82b02cd223b9',
        sig: '1A20E4E2069B609FDA6CECA9DE18D5CAFE99720DDB628BD6BE8B19942A336E1C',
      }),
    ).be.undefined();
  });

  it('passes every request the loopback sends: parts of long SMS, Unicode, receipts of short codes and sender IDs', () => {
    const text = 'Grüße aus Köln 😀 '.repeat(30);
    for (const params of inboundRequests({ msisdn: '447700900001', to: '447700900000', text }, { partLength: 67 })) should(check(INBOUND_SMS, params)).be.undefined();
    for (const from of ['AcmeInc', '12345', '447700900000']) {
      should(check(DELIVERY_RECEIPT, receiptFor({ to: '447700900123', from, clientRef: 'ref-1' }, { 'message-id': '0A0000001234567B' }, { status: 'failed', errCode: '9' }))).be.undefined();
    }
  });

  it('says what is wrong with a field, naming it', () => {
    const sms = { msisdn: '447700900001', to: '447700900000', messageId: 'AB12', text: 'hi' };
    const cases: Array<[Record<string, string>, string]> = [
      [{ msisdn: '447700900001,447700900002' }, 'msisdn must be a phone number (7 to 15 digits) or a sender ID of at most 11 letters and digits'],
      [{ msisdn: '123456' }, 'msisdn must be a phone number (7 to 15 digits) or a sender ID of at most 11 letters and digits'],
      [{ msisdn: 'Acme Company Ltd' }, 'msisdn must be a phone number (7 to 15 digits) or a sender ID of at most 11 letters and digits'],
      [{ to: 'AcmeInc' }, 'to must be a phone number: 7 to 15 digits'],
      [{ messageId: 'A'.repeat(41) }, 'messageId must be a Vonage message id: up to 40 letters and digits'],
      [{ text: 'x'.repeat(1601) }, 'text must be at most 1600 characters'],
      [{ concat: 'true', 'concat-ref': '1', 'concat-total': '0', 'concat-part': '1' }, 'concat-total must be a whole number from 1 to 255'],
      [{ concat: 'true', 'concat-ref': '1', 'concat-total': '3', 'concat-part': '4' }, 'concat-part must be a whole number from 1 to concat-total (3)'],
      [{ concat: 'true', 'concat-total': '3', 'concat-part': '1' }, 'a part of a long SMS (concat=true) needs concat-ref'],
      [{ 'concat-total': '1e7' }, 'concat-total must be a whole number from 1 to 255'],
      [{ 'message-timestamp': '2021-02-30 10:00:00' }, 'message-timestamp is not a real date'],
      [{ 'message-timestamp': 'yesterday' }, 'message-timestamp must be a UTC time written YYYY-MM-DD HH:MM:SS'],
      [{ messageId: '' }, 'missing messageId'],
      [{ constructor: 'x' }, 'the field name "constructor" is not allowed'],
      [{ 'a[b]': '1' }, 'the field name "a[b]" is not allowed'],
      [{ note: 'x'.repeat(257) }, 'note is longer than 256 characters'],
      [Object.fromEntries(Array.from({ length: MAX_OTHER_FIELDS + 1 }, (_, i) => [`f${i}`, 'x'])), "too many fields: at most 20 besides Vonage's own"],
    ];
    for (const [change, expected] of cases) should(check(INBOUND_SMS, { ...sms, ...change })).equal(expected);
    should(check(DELIVERY_RECEIPT, { messageId: 'AB12', status: 'delivered; rm -rf' })).equal('status must be a status such as delivered or failed');
    should(check(DELIVERY_RECEIPT, { messageId: 'AB12', status: 'delivered', 'err-code': '12345' })).equal('err-code must be an error code: up to 4 digits');
  });

  it('quotes values in errors at most 40 characters long', () => {
    should(quote('447700900001')).equal('"447700900001"');
    should(quote('4'.repeat(5000))).equal(`"${'4'.repeat(40)}"… (5000 characters)`);
  });
});
