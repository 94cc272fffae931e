/**
 * The tutorial's promises on both of Vonage's APIs, one suite run once for each: send an SMS, receive
 * one, reply to it, and track its delivery, with the package's own examples as the Import menu gives
 * them and only the account's API switched, against the loopback over real HTTP. (On the Messages API
 * Vonage POSTs JSON, which the tutorial's `http in` GET never sees: receiving is SMS in's job there, so
 * both runs receive with the Auto-reply example's SMS in.)
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { deliver, deliverMessages, inboundRequests, messagesInbound, messagesStatus } from '../../dev/loopback/webhooks';
import { coreNodes, exampleFlow, helper, httpNodeServer, nextMessage, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { freePort } from '../support/ports';

const API_KEY = 'both0001';
const API_SECRET = 'both-apis-secret-3';

for (const api of ['sms', 'messages'] as const) {
  describe(`the tutorial on the ${api === 'sms' ? 'SMS API' : 'Messages API'} (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(20_000);
    const loopback = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
    const web = httpNodeServer();
    let restHost = '';
    const nodes = [coreNodes.inject, coreNodes.comment, coreNodes.debug, ...packageNodes, web.capture];

    before(async () => {
      restHost = await loopback.listen();
      loopback.autoReceipts = true;
    });
    after(() => loopback.close());
    afterEach(async () => {
      loopback.reset();
      await web.close();
      await helper.unload();
    });

    /** An example with its account switched to this API (and aimed at the loopback), as a user would set it. */
    async function load(name: string, change: (flow: FlowNode[]) => void = () => {}, port = 0): Promise<{ flow: FlowNode[]; url: string }> {
      const flow = exampleFlow(name, restHost);
      const config = flow.find((n) => n.type === 'nexmobasic')!;
      config.api = api;
      change(flow);
      await helper.load(nodes, flow, { [config.id]: { apikey: API_KEY, apisecret: API_SECRET } });
      return { flow, url: await web.listen(port) };
    }

    const accepted = () => (api === 'sms' ? loopback.sent : loopback.sentMessages);

    /** An inbound SMS as Vonage sends it on this API. */
    function inbound(url: string, text: string): Promise<number> {
      return api === 'sms'
        ? deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900001', to: '447700900000', text }, { apiKey: API_KEY })[0])
        : deliverMessages(`${url}/sms`, messagesInbound({ from: '447700900001', to: '447700900000', text }));
    }

    it('Send an SMS: the inject button sends "Hello World", and the debug node shows Vonage\'s answer', async () => {
      await load('Send an SMS');
      const debug = nextMessage('5e4d1c0a9b8e7f04');
      helper.getNode('5e4d1c0a9b8e7f02').receive({});
      const msg = await debug;
      should(accepted()).have.length(1);
      should(accepted()[0].params).have.properties({ to: '447700900123', from: '447700900000', text: 'Hello World' });
      if (api === 'sms') should(msg.payload.messages[0]).have.properties({ to: '447700900123', status: '0' });
      else should(msg.payload).eql(accepted()[0].accepted);
      should(msg.sms).have.properties({ to: '447700900123', from: '447700900000', text: 'Hello World', encoding: 'GSM-7', parts: 1 });
    });

    it("receive an SMS with SMS in: msisdn, to and text, as the tutorial's templates read them", async () => {
      const { url } = await load('Auto-reply with SMS in', (flow) => {
        flow.find((n) => n.type === 'vonage-sms-in')!.wires = [['received']];
        flow.push({ id: 'received', z: 'example-tab', type: 'helper' });
      });
      const debug = nextMessage('received');
      should(await inbound(url, 'Hello from my phone')).equal(200);
      const msg = await debug;
      should(msg.payload).have.properties({ msisdn: '447700900001', to: '447700900000', text: 'Hello from my phone' });
      should(msg.payload.messageId).be.a.String();
      should(msg.topic).equal('447700900001');
    });

    it('reply to an SMS: "You said …" goes back to its sender, from the number it was sent to', async () => {
      const { url } = await load('Auto-reply with SMS in');
      const debug = nextMessage('8c5d4e3f2a1b0c04');
      should(await inbound(url, 'Is it working?')).equal(200);
      await debug;
      should(accepted().map((r) => [r.params.to, r.params.from, r.params.text])).eql([['447700900001', '447700900000', 'You said Is it working?']]);
    });

    it("track delivery receipts: the SMS's receipt reaches SMS receipt, final, tied to the msg that sent it", async () => {
      // The example leaves the Receipt URL empty (the dashboard's is used): here, this Node-RED's own.
      const port = await freePort();
      await load(
        'Track delivery receipts',
        (flow) => {
          flow.find((n) => n.type === 'sendsms')!.callback = `http://127.0.0.1:${port}/sms/receipt`;
        },
        port,
      );
      const sent = nextMessage('9d6e5f4a3b2c1d04');
      const receipt = nextMessage('9d6e5f4a3b2c1d06');
      helper.getNode('9d6e5f4a3b2c1d02').receive({});
      const msg = await sent;
      const got = await receipt;
      should(got.payload).have.properties({ status: 'delivered', final: true });
      should(got.topic).equal(msg._msgid);
      if (api === 'messages') should(got.payload.message_uuid).equal(msg.payload.message_uuid);
      else should(got.payload.messageId).equal(msg.payload.messages[0]['message-id']);
    });
  });
}

describe(`the example "Use the Messages API" (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(20_000);
  const loopback = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
  const web = httpNodeServer();
  before(() => loopback.listen());
  after(() => loopback.close());
  afterEach(async () => {
    await web.close();
    await helper.unload();
  });

  it("sends on the Messages API, answers an inbound SMS with the tutorial's template, and passes its status on", async () => {
    const flow = exampleFlow('Use the Messages API', loopback.url);
    const config = flow.find((n) => n.type === 'nexmobasic')!;
    should(config).have.properties({ api: 'messages', name: 'Vonage account (Messages API)' });
    await helper.load([coreNodes.inject, coreNodes.comment, ...packageNodes, web.capture], flow, { [config.id]: { apikey: API_KEY, apisecret: API_SECRET } });
    const url = await web.listen();
    const id = (name: string) => flow.find((n) => n.name === name)!.id;
    const response = nextMessage(id('Messages API response'));
    helper.getNode(flow.find((n) => n.type === 'inject')!.id).receive({});
    should((await response).payload).eql(loopback.sentMessages[0].accepted);
    const reply = nextMessage(id('Reply sent'));
    should(await deliverMessages(`${url}/sms`, messagesInbound({ from: '447700900001', to: '447700900000', text: 'Hi' }))).equal(200);
    await reply;
    should(loopback.sentMessages.map((r) => [r.params.to, r.params.text])).eql([
      ['447700900123', 'Hello from the Messages API'],
      ['447700900001', 'You said Hi'],
    ]);
    const status = nextMessage(id('Status'));
    const sent = loopback.sentMessages[1];
    should(await deliverMessages(`${url}/sms/receipt`, messagesStatus({ message_uuid: sent.accepted!.message_uuid, to: '447700900001', from: '447700900000' }))).equal(200);
    should((await status).payload).have.properties({ status: 'delivered', final: true, message_uuid: sent.accepted!.message_uuid });
  });
});
