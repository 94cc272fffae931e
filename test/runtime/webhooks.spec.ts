/**
 * SMS in and SMS receipt through the real runtime, over real HTTP: Vonage's three transports, the
 * immediate 200, long SMS in every arrival order, retries, signatures of all five methods, bad and
 * oversize requests, and receipts matched to the SMS that caused them.
 */
import net from 'node:net';
import should from 'should';
import { deliver, inboundRequests, sendInboundSms, sign, type SigningMethod, type Transport } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, drained, exampleFlow, helper, httpNodeServer, isMarker, nextMessage, nodeRedVersion, packageNodes, USER_DIR, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const SECRET = 'webhook-api-secret';
const SIG_SECRET = 'my-signature-secret-77';
const SMS = { msisdn: '447700900001', to: '447700900000', text: 'Hello from a phone' };

/** A node that takes its time, as a slow flow would: it holds its msg until the test lets it go on. */
let slowHolds: (() => void) | undefined;
const slowNode = ((RED: any) => {
  RED.nodes.registerType('slow', function (this: any, n: any) {
    RED.nodes.createNode(this, n);
    this.on('input', (msg: unknown, send: (m: unknown) => void, done: () => void) => {
      slowHolds = () => (send(msg), done());
    });
  });
}) as (RED: unknown) => void;

describe(`SMS in and SMS receipt (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: 'hook0001', apiSecret: SECRET, balance: 10 }]);
  const web = httpNodeServer();
  let url = '';
  const nodes = [...packageNodes, coreNodes.catch, coreNodes.comment, coreNodes.http, web.capture, slowNode];
  afterEach(() => web.close());

  async function load(flow: FlowNode[], credentials: Record<string, unknown> = {}): Promise<void> {
    await helper.load(nodes, flow, credentials);
    url = await web.listen();
  }

  function smsIn(props: Record<string, unknown> = {}, creds = ''): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'in' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, sigmethod: 'md5hash', ...(props.cfg as object) },
      { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', creds, concatwait: 5, ...props, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
  }

  /** Every msg a helper node receives from now on (drained()'s markers left out). */
  function collect(id: string): any[] {
    const got: any[] = [];
    helper.getNode(id).on('input', (m: any) => isMarker(m) || got.push(m));
    return got;
  }

  /**
   * Once `got` has `count` msgs, every msg the node sent so far: SMS in and SMS receipt pass a request's
   * msg on before they answer it, so when the answers are in, a marker sent after them shows that nothing
   * more is on its way.
   */
  async function allOf(got: any[], count: number, from = 'in', to = 'out'): Promise<void> {
    await until(() => got.length >= count, { what: () => `${count} msgs at ${to} (${got.length} so far)` });
    await drained(from, to);
  }

  describe('SMS in', () => {
    const transports: Transport[] = ['GET', 'POST-form', 'POST-json'];
    for (const transport of transports) {
      it(`takes Vonage's ${transport} webhook, query and body merged, with Vonage's field names and a parsed timestamp`, async () => {
        await load(smsIn());
        const got = collect('out');
        const [params] = inboundRequests(SMS);
        const status = await deliver(transport === 'GET' ? `${url}/sms` : `${url}/sms?extra=from-query`, params, transport);
        await allOf(got, 1);
        should(status).equal(200);
        should(got).have.length(1);
        should(got[0].payload).have.properties(params);
        if (transport !== 'GET') should(got[0].payload.extra).equal('from-query');
        should(got[0].payload.received).equal(new Date(`${params['message-timestamp'].replace(' ', 'T')}Z`).toISOString());
        should(got[0].topic).equal(SMS.msisdn);
      });
    }

    it('answers 200 at once, before a slow flow has run', async () => {
      const flow = smsIn();
      // (A node whose id is also a type name confuses Node-RED's config-node check: hence 'slowstep'.)
      flow[2].wires = [['slowstep']];
      flow.push({ id: 'slowstep', z: 'tab', type: 'slow', wires: [['out']] });
      await load(flow);
      const got = collect('out');
      slowHolds = undefined;
      // The slow node holds the msg until the test lets it go on: an answer that waited for the flow would never come.
      const status = await deliver(`${url}/sms`, inboundRequests(SMS)[0]);
      should(status).equal(200);
      should(got).be.empty();
      const goOn = await until(() => slowHolds, { what: 'the slow node to have the msg' });
      const reached = nextMessage('out');
      goOn();
      await reached;
      should(got).have.length(1);
    });

    it('joins a long SMS from its parts in every arrival order, once', async () => {
      await load(smsIn());
      const got = collect('out');
      const text = 'One long message: '.repeat(3) + 'the end';
      const orders = [
        [1, 2, 3],
        [1, 3, 2],
        [2, 1, 3],
        [2, 3, 1],
        [3, 1, 2],
        [3, 2, 1],
      ];
      for (const order of orders) {
        const statuses = await sendInboundSms(`${url}/sms`, { ...SMS, text }, { partLength: 25, order });
        should(statuses).eql([200, 200, 200]);
      }
      await allOf(got, orders.length);
      should(got).have.length(orders.length);
      for (const msg of got) {
        should(msg.payload.text).equal(text);
        should(msg.payload.complete).be.true();
        should(msg.payload.parts.map((p: any) => p['concat-part'])).eql(['1', '2', '3']);
      }
      // The status counts SMS, not parts: one "received" a joined SMS.
      const received = helper.getNode('in').status.args.filter((a: any[]) => a[0].text === 'vonage-sms-in.status.received');
      should(received).have.length(orders.length);
    });

    it('hands on a long SMS whose parts did not all come after the wait, marked incomplete, with a warning', async () => {
      await load(smsIn({ concatwait: 0.3 }));
      const got = collect('out');
      const text = 'a'.repeat(10) + 'b'.repeat(10) + 'c'.repeat(10);
      const [first, , third] = inboundRequests({ ...SMS, text }, { partLength: 10 });
      const started = performance.now();
      await deliver(`${url}/sms`, first);
      await deliver(`${url}/sms`, third);
      await drained('in', 'out');
      should(got).be.empty();
      await allOf(got, 1);
      // Not before its wait for the missing part was over (0.3 s from the first part; a timer may fire a few ms early by the test's clock).
      should(performance.now() - started).be.aboveOrEqual(250);
      should(got).have.length(1);
      should(got[0].payload).have.properties({ text: 'a'.repeat(10) + 'c'.repeat(10), complete: false, missing: [2] });
      should(helper.log().args.some((a: any[]) => a[0].level === helper.log().WARN && a[0].msg === 'vonage-sms-in.warn.incomplete')).be.true();
    });

    it("acknowledges Vonage's retries but passes each SMS on once", async () => {
      await load(smsIn());
      const got = collect('out');
      should(await sendInboundSms(`${url}/sms`, SMS, { repeat: 3 })).eql([200, 200, 200]);
      should(await sendInboundSms(`${url}/sms`, { ...SMS, text: 'long '.repeat(8) }, { partLength: 20, repeat: 2, order: [2, 1] })).eql([200, 200, 200, 200]);
      await allOf(got, 2);
      should(got.map((m) => m.payload.text)).eql([SMS.text, 'long '.repeat(8)]);
    });

    it('answers 400 to a request without msisdn, to or messageId, and 413 to an oversize body', async () => {
      await load(smsIn());
      const got = collect('out');
      const [params] = inboundRequests(SMS);
      for (const field of ['msisdn', 'to', 'messageId']) {
        const { [field]: _dropped, ...rest } = params;
        should(await deliver(`${url}/sms`, rest, 'POST-json')).equal(400);
      }
      should(await deliver(`${url}/sms`, { ...params, text: 'x'.repeat(100_000) }, 'POST-json')).equal(413);
      should(await deliver(`${url}/sms`, params, 'POST-json')).equal(200);
      await allOf(got, 1);
      should(got).have.length(1);
    });

    const methods: SigningMethod[] = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'];
    for (const method of methods) {
      it(`with a signature secret (${method}): accepts what Vonage signed, refuses unsigned, forged, altered and stale requests with 401`, async () => {
        await load(smsIn({ cfg: { sigmethod: method } }, 'cfg'), { cfg: { apikey: 'hook0001', apisecret: SECRET, sigsecret: SIG_SECRET } });
        const got = collect('out');
        const warnings: any[] = [];
        helper.getNode('in').on('call:warn', (call: any) => warnings.push(call.args[0]));
        const [plain] = inboundRequests(SMS);
        const valid = sign(plain, { secret: SIG_SECRET, method });
        should(await deliver(`${url}/sms`, valid)).equal(200);
        const forged = sign(plain, { secret: 'not-the-secret', method });
        const altered = { ...valid, text: 'Send me your money' };
        const stale = sign({ ...plain, messageId: 'STALE0001' }, { secret: SIG_SECRET, method, timestamp: Math.floor(Date.now() / 1000) - 600 });
        const otherMethod = sign({ ...plain, messageId: 'OTHER0001' }, { secret: SIG_SECRET, method: method === 'sha256' ? 'sha512' : 'sha256' });
        for (const bad of [plain, forged, altered, stale, otherMethod]) should(await deliver(`${url}/sms`, bad, 'POST-json')).equal(401);
        await allOf(got, 1);
        should(got).have.length(1);
        should(got[0].payload.sig).equal(valid.sig);
        // One line a kind of refusal a minute (issue 20: a flood of refused requests flooded the log), the
        // second forgery of the minute counted for the next line; the status counts every one.
        should(warnings).eql(['vonage-sms-in.warn.unsigned', 'vonage-sms-in.warn.mismatch', 'vonage-sms-in.warn.stale']);
        should(helper.getNode('in').status.lastCall.args[0]).have.properties({ fill: 'red', text: 'vonage-sms-in.status.rejected' });
        should(JSON.stringify(helper.log().args)).not.containEql(SIG_SECRET);
      });
    }

    it('fails closed when its Signed by node is missing, disabled or has no signature secret: 503 to everything, and says why', async () => {
      const cases: Array<[FlowNode[], Record<string, unknown>, string]> = [
        [smsIn({}, 'no-such-node'), {}, 'signer-missing'],
        [smsIn({ cfg: { d: true } }, 'cfg'), { cfg: { apikey: 'hook0001', apisecret: SECRET, sigsecret: SIG_SECRET } }, 'signer-missing'],
        [smsIn({}, 'cfg'), { cfg: { apikey: 'hook0001', apisecret: SECRET } }, 'signer-no-secret'],
      ];
      for (const [flow, credentials, problem] of cases) {
        await load(flow, credentials);
        const got = collect('out');
        const node = helper.getNode('in');
        should(node.status.args.map((a: any[]) => a[0])).containEql({ fill: 'red', shape: 'ring', text: `vonage-sms-in.status.${problem}` });
        should(node.warn.args.map((a: any[]) => a[0])).eql([`vonage-sms-in.warn.${problem}`]);
        const [plain] = inboundRequests(SMS);
        should(await deliver(`${url}/sms`, plain)).equal(503);
        should(await deliver(`${url}/sms`, sign(plain, { secret: SIG_SECRET, method: 'md5hash' }))).equal(503);
        await drained('in', 'out');
        should(got).be.empty();
        await helper.unload();
        await web.close();
      }
    });

    it('answers 408 to a body that has not arrived within its time (settings.js: vonageSmsWebhookBodyTimeout), and keeps serving', async function () {
      helper.settings({ userDir: USER_DIR, vonageSmsWebhookBodyTimeout: 1_000 });
      try {
        await load(smsIn());
      } finally {
        helper.settings({ userDir: USER_DIR });
      }
      const { port } = new URL(url);
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"msisdn":');
        });
        let text = '';
        socket.on('data', (d) => {
          text += d;
          if (text.includes('\r\n\r\n')) {
            resolve(text);
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      should(answer).match(/^HTTP\/1\.1 408 /);
      // Not before its second was up. (How much after is the machine's business: no upper bound.)
      should(Date.now() - started).be.aboveOrEqual(950);
      should(await deliver(`${url}/sms`, inboundRequests(SMS)[0])).equal(200);
    });

    it('says so when another node serves its URL too, and which one gets the requests', async () => {
      const httpIn = { id: 'hin', z: 'tab', type: 'http in', url: '/sms', method: 'get', wires: [['hout']] };
      const httpOut = { id: 'hout', z: 'tab', type: 'http response', statusCode: '204', wires: [] };
      for (const [order, expected] of [
        ['http in first', 'shadowed'],
        ['SMS in first', 'shadowing'],
      ] as const) {
        const flow = smsIn();
        // Nodes start in the order of the flow: whichever comes first registers its route first.
        const nodesInOrder = order === 'http in first' ? [flow[0], flow[1], httpIn, httpOut, ...flow.slice(2)] : [...flow, httpIn, httpOut];
        // Checked when the flows have started, which helper.load() waits for.
        await load(nodesInOrder);
        const node = helper.getNode('in');
        should(node.warn.args.map((a: any[]) => a[0])).containEql(`vonage-sms-in.warn.${expected}`);
        should(node.status.args.map((a: any[]) => a[0])).containEql({ fill: 'yellow', shape: 'ring', text: `vonage-sms-in.status.${expected}` });
        // Express gives each request to the route registered first.
        should(await deliver(`${url}/sms`, inboundRequests(SMS)[0])).equal(expected === 'shadowed' ? 204 : 200);
        await helper.unload();
        await web.close();
      }
      await load(smsIn());
      should(helper.getNode('in').warn.args).be.empty();
    });

    it("replaces http in + http response in the tutorial's reply flow: Auto-reply with SMS in", async () => {
      const flow = exampleFlow('Auto-reply with SMS in', loopback.restHost);
      const config = flow.find((n) => n.type === 'nexmobasic')!;
      await load(flow, { [config.id]: { apikey: 'hook0001', apisecret: SECRET } });
      const replies = collect('8c5d4e3f2a1b0c04');
      should(await sendInboundSms(`${url}/sms`, { ...SMS, text: 'a long text '.repeat(20) }, { partLength: 153, order: [2, 1], repeat: 2 })).eql([200, 200, 200, 200]);
      // Then one more SMS, from another number: it takes the same way (SMS in, Send SMS, its queue), after any second reply to the first.
      should(await sendInboundSms(`${url}/sms`, { ...SMS, msisdn: '447700900002', text: 'sentinel' })).eql([200]);
      await until(() => replies.length >= 2 && loopback.api.sent.some((r) => r.params.text === 'You said sentinel'), { what: 'the replies to both SMS' });
      const sent = loopback.api.sent.filter((r) => r.params.text !== 'You said sentinel');
      should(sent).have.length(1);
      should(sent[0].params).have.properties({ to: SMS.msisdn, from: SMS.to, text: `You said ${'a long text '.repeat(20)}` });
    });
  });

  describe('SMS receipt', () => {
    function receiptFlow(): FlowNode[] {
      return [
        { id: 'tab', type: 'tab', label: 'receipts' },
        { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost },
        { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'AcmeInc', text: '{{msg.payload}}', callback: '', wires: [['sent']] },
        { id: 'sent', z: 'tab', type: 'helper' },
        { id: 'receipts', z: 'tab', type: 'vonage-sms-receipt', url: '/sms/receipt', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
    }

    it('matches each receipt (one a part) to the msg that sent the SMS, through client-ref, once', async () => {
      // The Receipt URL needs the test server's port, known only once it listens: listen first, then load.
      url = await web.listen();
      const flow = receiptFlow();
      flow[2].callback = `${url}/sms/receipt`;
      await helper.load(nodes, flow, { cfg: { apikey: 'hook0001', apisecret: SECRET } });
      const sent = collect('sent');
      const receipts = collect('out');
      helper.getNode('send').receive({ payload: 'short' });
      helper.getNode('send').receive({ payload: 'long '.repeat(40) });
      await allOf(sent, 2, 'send', 'sent');
      should(sent).have.length(2);
      should(loopback.api.sent.map((r) => r.params.callback)).eql([`${url}/sms/receipt`, `${url}/sms/receipt`]);

      should(await loopback.api.deliverReceipts()).eql([200, 200, 200]);
      should(await loopback.api.deliverReceipts()).eql([200, 200, 200]);
      await allOf(receipts, 3, 'receipts', 'out');
      should(receipts).have.length(3);
      for (const receipt of receipts) {
        const cause = sent.find((m) => m._msgid === receipt.payload['client-ref']);
        should(cause).be.ok();
        should(cause.payload.messages.map((p: any) => p['message-id'])).containEql(receipt.payload.messageId);
        should(receipt.payload).have.properties({ status: 'delivered', final: true, errCodeMeaning: 'Delivered', 'err-code': '0', msisdn: '447700900123', to: 'AcmeInc' });
        should(receipt.topic).equal(receipt.payload['client-ref']);
      }
    });

    it('says which statuses are final and what an err-code means, over every transport', async () => {
      await load(receiptFlow(), { cfg: { apikey: 'hook0001', apisecret: SECRET } });
      const receipts = collect('out');
      const sent = nextMessage('sent');
      helper.getNode('send').receive({ payload: 'hello' });
      await sent;
      const target = `${url}/sms/receipt`;
      should(await loopback.api.deliverReceipts({ url: target, status: 'buffered', errCode: '0', transport: 'GET' })).eql([200]);
      should(await loopback.api.deliverReceipts({ url: target, status: 'failed', errCode: '6', transport: 'POST-form' })).eql([200]);
      should(await loopback.api.deliverReceipts({ url: target, status: 'rejected', errCode: '53', transport: 'POST-json' })).eql([200]);
      await allOf(receipts, 3, 'receipts', 'out');
      should(receipts.map((r) => [r.payload.status, r.payload.final, r.payload.errCodeMeaning])).eql([
        ['buffered', false, 'Delivered'],
        ['failed', true, 'Anti-spam rejection by the carrier'],
        ['rejected', true, 'Consent filter: the recipient has not consented (regulatory)'],
      ]);
    });

    it('refuses unsigned receipts with 401 when its credentials node has a signature secret', async () => {
      const flow = receiptFlow();
      flow[4].creds = 'cfg';
      (flow[1] as FlowNode).sigmethod = 'sha256';
      await load(flow, { cfg: { apikey: 'hook0001', apisecret: SECRET, sigsecret: SIG_SECRET } });
      const receipts = collect('out');
      const sent = nextMessage('sent');
      helper.getNode('send').receive({ payload: 'hello' });
      await sent;
      const target = `${url}/sms/receipt`;
      should(await loopback.api.deliverReceipts({ url: target })).eql([401]);
      should(await loopback.api.deliverReceipts({ url: target, signing: { secret: SIG_SECRET, method: 'sha256' } })).eql([200]);
      await allOf(receipts, 1, 'receipts', 'out');
      should(receipts).have.length(1);
    });
  });
});
