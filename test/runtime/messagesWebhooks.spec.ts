/**
 * SMS in and SMS receipt take the Messages API's webhooks (MESSAGES-API-NOTES §5–§7) on the same
 * URLs as the SMS API's, through the real runtime and real HTTP: an account switched to the Messages
 * API in the dashboard keeps its flows working (the tutorial's reply templates included), retries
 * are dropped by message_uuid, other channels are answered and not passed on, JWT-signed webhooks
 * are checked in full, and status webhooks say whether they are final and what their error means.
 */
import should from 'should';
import { deliver, deliverMessages, inboundRequests, messagesInbound, messagesStatus, type MessagesWebhook } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, drained, helper, httpNodeServer, isMarker, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'msgs0001';
const API_SECRET = 'messages-secret-1';
const SIG_SECRET = 'messages-signature-secret-42';
const OUR_NUMBER = '447700900000';
/** The sender of the sentinel SMS (see sentinel()). */
const SENTINEL_FROM = '447700900099';

describe(`SMS in and SMS receipt on the Messages API (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
  const web = httpNodeServer();
  let url = '';
  afterEach(() => web.close());

  /** The tutorial's auto-reply on SMS in, and SMS receipt; both "Signed by" the account when `signed`. */
  async function load(signed = false): Promise<void> {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'messages' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, timeout: 2 },
      { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', creds: signed ? 'cfg' : '', wires: [['in-out', 'reply']] },
      { id: 'in-out', z: 'tab', type: 'helper' },
      { id: 'reply', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload.msisdn}}', fr: '{{msg.payload.to}}', text: 'You said {{msg.payload.text}}', wires: [[]] },
      { id: 'receipt', z: 'tab', type: 'vonage-sms-receipt', url: '/sms/receipt', creds: signed ? 'cfg' : '', wires: [['receipt-out']] },
      { id: 'receipt-out', z: 'tab', type: 'helper' },
    ];
    await helper.load([...packageNodes, coreNodes.catch, web.capture], flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET, ...(signed ? { sigsecret: SIG_SECRET } : {}) } });
    url = await web.listen();
  }

  /** Every msg a helper node receives from now on (drained()'s markers left out). */
  function collect(id: string): any[] {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => isMarker(m) || got.push(m));
    return got;
  }

  const signing = (extra: Record<string, unknown> = {}) => ({ secret: SIG_SECRET, apiKey: API_KEY, ...extra });

  /**
   * One more SMS after those under test, from another number, awaited at SMS in's output and its reply at
   * the API: SMS in passes SMS on in the order they come, and Send SMS queues them in that order, so
   * whatever the SMS before it caused has come out by then. It is taken out of `got` again; replies()
   * leaves its reply out.
   */
  async function sentinel(got: any[], signed = false): Promise<void> {
    should(await deliverMessages(`${url}/sms`, messagesInbound({ from: SENTINEL_FROM, to: OUR_NUMBER, text: 'sentinel' }, signed ? signing() : undefined))).equal(200);
    await until(() => got.some((m) => m.payload.msisdn === SENTINEL_FROM) && loopback.api.sent.some((r) => r.params.to === SENTINEL_FROM), {
      what: "the sentinel SMS at SMS in's output, and its reply at the API",
    });
    got.splice(
      got.findIndex((m) => m.payload.msisdn === SENTINEL_FROM),
      1,
    );
  }
  /** What the API accepted, but for the reply to the sentinel SMS. */
  const replies = () => loopback.api.sent.filter((r) => r.params.to !== SENTINEL_FROM);

  it("passes on an inbound SMS with Vonage's fields as sent, plus msisdn and messageId, and the tutorial's reply answers it", async () => {
    await load();
    const got = collect('in-out');
    const webhook = messagesInbound({ from: '447700900001', to: OUR_NUMBER, text: 'Hello from the Messages API' });
    should(await deliverMessages(`${url}/sms`, webhook)).equal(200);
    await until(() => replies().length >= 1, { what: 'the reply at the API' });
    await sentinel(got);
    should(got).have.length(1);
    const sent = JSON.parse(webhook.body);
    should(got[0].payload).have.properties({ ...sent, msisdn: '447700900001', messageId: sent.message_uuid, received: new Date(sent.timestamp).toISOString() });
    should(got[0].payload.sms).eql({ num_messages: '1', keyword: 'HELLO' });
    should(got[0].topic).equal('447700900001');
    should(replies().map((r) => [r.params.to, r.params.from, r.params.text])).eql([['447700900001', OUR_NUMBER, 'You said Hello from the Messages API']]);
    // The SMS API's webhook on the same URL still works.
    should(await deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900002', to: OUR_NUMBER, text: 'and the SMS API' })[0])).equal(200);
    await until(() => got.length >= 2, { what: "the SMS API's SMS at SMS in's output" });
    should(got.map((m) => m.payload.text)).eql(['Hello from the Messages API', 'and the SMS API']);
    // Its reply too, so that nothing of this test reaches the API during the next.
    await until(() => replies().length >= 2, { what: "the reply to the SMS API's SMS" });
  });

  it("drops Vonage's retries by message_uuid, and passes a long SMS (joined by Vonage) on once, as it came", async () => {
    await load();
    const got = collect('in-out');
    const text = 'a long message that the Messages API joined from its parts: '.repeat(5);
    const webhook = messagesInbound({ from: '447700900003', to: OUR_NUMBER, text, parts: 3 });
    for (let i = 0; i < 3; i += 1) should(await deliverMessages(`${url}/sms`, webhook)).equal(200);
    await until(() => replies().length >= 1, { what: 'the reply at the API' });
    await sentinel(got);
    should(got).have.length(1);
    should(got[0].payload.text).equal(text);
    should(got[0].payload.sms.num_messages).equal('3');
    should(got[0].payload).not.have.property('parts');
    should(replies()).have.length(1);
  });

  it('answers a webhook of another channel 200, passes nothing on, and warns', async () => {
    await load();
    const got = collect('in-out');
    const warnings: string[] = [];
    const node = helper.getNode('in');
    const warn = node.warn.bind(node);
    node.warn = (text: string) => (warnings.push(text), warn(text));
    const whatsapp = messagesInbound({ from: '447700900004', to: OUR_NUMBER, text: 'hi', channel: 'whatsapp' });
    should(await deliverMessages(`${url}/sms`, whatsapp)).equal(200);
    await sentinel(got);
    should(got).be.empty();
    should(warnings).eql(['vonage-sms-in.warn.other-channel']);
  });

  it('answers 400 to a Messages webhook that is not what Vonage sends, and passes nothing on', async () => {
    await load();
    const got = collect('in-out');
    const base = JSON.parse(messagesInbound({ from: '447700900005', to: OUR_NUMBER, text: 'x' }).body);
    const bad = [
      { ...base, text: { nested: 'object' } },
      { ...base, sms: 'text' },
      { ...base, from: undefined },
      { ...base, channel: 'SMS!' },
      { ...base, usage: { price: [1, 2] } },
    ];
    for (const body of bad) {
      const res = await fetch(`${url}/sms`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      should(res.status).equal(400, JSON.stringify(body).slice(0, 80));
      should(await res.text()).match(/must be|missing/);
    }
    await sentinel(got);
    should(got).be.empty();
  });

  describe('signed by a config node with a signature secret', () => {
    it('passes on a webhook whose JWT is signed with the secret, over this body, and recent', async () => {
      await load(true);
      const got = collect('in-out');
      should(await deliverMessages(`${url}/sms`, messagesInbound({ from: '447700900006', to: OUR_NUMBER, text: 'signed' }, signing()))).equal(200);
      await sentinel(got, true);
      should(got.map((m) => m.payload.text)).eql(['signed']);
      // Its reply too, so that nothing of this test reaches the API during the next.
      await until(() => replies().length >= 1, { what: 'the reply to the signed SMS' });
    });

    it('refuses with 401, and passes nothing on: unsigned, another secret, an altered body, a stale or a future iat', async () => {
      await load(true);
      const got = collect('in-out');
      const now = Math.floor(Date.now() / 1000);
      const sms = { from: '447700900007', to: OUR_NUMBER, text: 'forged' };
      const forged: Array<[string, MessagesWebhook]> = [
        ['unsigned', messagesInbound(sms)],
        ['another secret', messagesInbound(sms, { secret: 'not-the-secret', apiKey: API_KEY })],
        ['an altered body', messagesInbound(sms, signing({ hashOf: '{"text":"what was signed"}' }))],
        ['a stale iat', messagesInbound(sms, signing({ iat: now - 301 }))],
        ['a future iat', messagesInbound(sms, signing({ iat: now + 301 }))],
      ];
      for (const [why, webhook] of forged) should(await deliverMessages(`${url}/sms`, webhook)).equal(401, why);
      // A token from one body does not sign another.
      const one = messagesInbound(sms, signing());
      const other = messagesInbound({ ...sms, text: 'another text' });
      should(await deliverMessages(`${url}/sms`, { body: other.body, headers: one.headers })).equal(401);
      await sentinel(got, true);
      should(got).be.empty();
      should(replies()).be.empty();
    });

    it('refuses an SMS API webhook without its own signature too', async () => {
      await load(true);
      should(await deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900008', to: OUR_NUMBER, text: 'unsigned form' })[0])).equal(401);
    });
  });

  describe('SMS receipt', () => {
    const sent = { message_uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab', to: '447700900011', from: OUR_NUMBER, client_ref: 'order-42' };

    it('passes on each status once, as sent, with final and the error in words, topic the client_ref', async () => {
      await load();
      const got = collect('receipt-out');
      should(await deliverMessages(`${url}/sms/receipt`, messagesStatus(sent, { status: 'submitted', parts: 2 }))).equal(200);
      const delivered = messagesStatus(sent, { status: 'delivered', parts: 2 });
      should(await deliverMessages(`${url}/sms/receipt`, delivered)).equal(200);
      should(await deliverMessages(`${url}/sms/receipt`, delivered)).equal(200);
      should(await deliverMessages(`${url}/sms/receipt`, messagesStatus({ ...sent, message_uuid: 'bbbbbbbb-bbbb-4ccc-8ddd-0123456789ab' }, { status: 'rejected', errorCode: '1210' }))).equal(200);
      // SMS receipt passes a status on before it answers: a marker sent after the answers comes after all of them.
      await drained('receipt', 'receipt-out');
      should(got.map((m) => [m.payload.status, m.payload.final, m.payload.errorMeaning])).eql([
        ['submitted', false, ''],
        ['delivered', true, ''],
        ['rejected', true, 'Anti-spam rejection by the carrier (sender ID or content)'],
      ]);
      should(got[1].payload).have.properties({ ...JSON.parse(delivered.body), received: new Date(JSON.parse(delivered.body).timestamp).toISOString() });
      should(got[1].payload.sms.count_total).equal('2');
      should(got.map((m) => m.topic)).eql(['order-42', 'order-42', 'order-42']);
    });

    it('records a recipient whose status says it opted out (error 1240): Send SMS then refuses it', async () => {
      await load();
      const got = collect('receipt-out');
      should(await deliverMessages(`${url}/sms/receipt`, messagesStatus(sent, { status: 'rejected', errorCode: '1240' }))).equal(200);
      await until(() => got.length >= 1, { what: "the status at SMS receipt's output" });
      should(got[0].payload).have.properties({ optOut: 'stop', errorMeaning: 'Illegal number: the recipient has opted out (replied STOP); never send to it again' });
      const caught = new Promise<any>((resolve) => helper.getNode('reply').once('call:error', (call: any) => resolve(call.args[0])));
      helper.getNode('reply').receive({ payload: { msisdn: '447700900011', to: OUR_NUMBER, text: 'hello?' } });
      should(await caught).match(/^not sent to \+447700900011: this number opted out on .* \(a delivery receipt said the carrier refuses SMS to it/);
      should(loopback.api.sent).be.empty();
    });
  });

  it('records a STOP sent as a Messages API SMS, for the only account deployed, though the webhook names none', async () => {
    await load();
    const got = collect('in-out');
    const refused = new Promise<any>((resolve) => helper.getNode('reply').once('call:error', (call: any) => resolve(call.args[0])));
    should(await deliverMessages(`${url}/sms`, messagesInbound({ from: '447700900021', to: OUR_NUMBER, text: 'Stop' }))).equal(200);
    await until(() => got.length >= 1, { what: "the STOP at SMS in's output" });
    should(got[0].payload.optOut).equal('stop');
    // The auto-reply ("You said Stop") is refused: the number has just opted out.
    should(await refused).match(/^not sent to \+447700900021: this number opted out/);
    should(loopback.api.sent).be.empty();
  });
});
