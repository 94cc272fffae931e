/**
 * The tutorial (../shared/seed/sending-and-receiving-sms.md), step by step, through the real
 * Node-RED runtime and real HTTP against the loopback Vonage SMS API, using the package's own
 * example flows as the Import menu gives them.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { deliver, inboundRequests } from '../../dev/loopback/webhooks';
import { coreNodes, exampleFlow, helper, httpNodeServer, nextMessage, nodeRedVersion, packageNodes, recordStatuses } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'abcd1234';
const API_SECRET = 'tutorial-secret-42';

describe(`the tutorial's flows (Node-RED ${nodeRedVersion})`, function () {
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
  const web = httpNodeServer();
  let restHost: string;
  const nodes = [coreNodes.inject, coreNodes.comment, coreNodes.http, coreNodes.debug, ...packageNodes, web.capture];

  before(async () => {
    restHost = await api.listen();
  });
  after(async () => {
    await api.close();
  });
  afterEach(async () => {
    api.reset();
    await web.close();
    await helper.unload();
  });

  it('Send an SMS: the inject button sends "Hello World" and the debug node shows the SMS API response', async () => {
    const flow = exampleFlow('Send an SMS', restHost);
    const sendSms = flow.find((n) => n.type === 'sendsms')!;
    const config = flow.find((n) => n.type === 'nexmobasic')!;
    await helper.load(nodes, flow, { [config.id]: { apikey: API_KEY, apisecret: API_SECRET } });
    const statuses = recordStatuses(sendSms.id);
    const debug = nextMessage('5e4d1c0a9b8e7f04');
    // Clicking the inject button is the editor's POST /inject/:id, which calls receive() on the node.
    helper.getNode('5e4d1c0a9b8e7f02').receive({});
    const msg = await debug;
    // Statuses reach the editor at most every 100 ms: the last one follows.
    await until(() => statuses.at(-1)?.text === 'sendsms.status.sent-one', { what: 'the green "sent" status' });

    should(msg.payload['message-count']).equal('1');
    should(msg.payload.messages).have.length(1);
    const [part] = msg.payload.messages;
    should(part).have.properties({ to: '447700900123', status: '0', network: '23410', 'message-price': '0.03330000' });
    should(part['message-id']).match(/^[0-9A-F]{16}$/);
    should(part['remaining-balance']).equal('9.96670000');
    should(
      Object.keys(msg.payload)
        .concat(Object.keys(part))
        .filter((k) => /[A-Z]/.test(k)),
    ).be.empty();
    should(msg.sms).eql({ to: '447700900123', from: '447700900000', text: 'Hello World', type: 'text', encoding: 'GSM-7', parts: 1, characters: 11, clientRef: msg._msgid, price: 0.0333 });
    should(part['client-ref']).equal(msg._msgid);

    should(api.requests).have.length(1);
    const [request] = api.requests;
    should(request).have.properties({ method: 'POST', path: '/sms/json', auth: 'basic', apiKey: API_KEY, outcome: '0' });
    should(request.params).have.properties({ to: '447700900123', from: '447700900000', text: 'Hello World', type: 'text' });
    should(statuses[0]).have.properties({ fill: 'blue', text: 'sendsms.status.sending' });
    should(statuses[statuses.length - 1]).have.properties({ fill: 'green', text: 'sendsms.status.sent-one' });
  });

  it('Receive an SMS: the GET /sms webhook answers 200 and the debug node shows msisdn, to and text', async () => {
    await helper.load(nodes, exampleFlow('Receive an SMS', restHost));
    const url = await web.listen();
    const debug = nextMessage('6a3b2c1d0e9f8a04');
    const params = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Hello from my phone' })[0];
    const status = await deliver(`${url}/sms`, params);
    const msg = await debug;

    should(status).equal(200);
    should(msg.payload).eql(params);
    should(api.requests).be.empty();
  });

  it('Reply to an SMS: every inbound SMS is answered with "You said …" to its sender, from the number it was sent to', async () => {
    const flow = exampleFlow('Reply to an SMS', restHost);
    const config = flow.find((n) => n.type === 'nexmobasic')!;
    await helper.load(nodes, flow, { [config.id]: { apikey: API_KEY, apisecret: API_SECRET } });
    const url = await web.listen();
    const debug = nextMessage('7b4c3d2e1f0a9b05');
    const status = await deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Is it working?' })[0]);
    const msg = await debug;

    should(status).equal(200);
    should(api.sent).have.length(1);
    should(api.sent[0].params).have.properties({ to: '447700900001', from: '447700900000', text: 'You said Is it working?', type: 'text' });
    should(msg.payload.messages[0]).have.properties({ to: '447700900001', status: '0' });
    should(msg.req).be.an.Object();
  });

  it('the examples are wired as the tutorial says', () => {
    type N = { id: string; type: string; wires?: string[][]; [k: string]: unknown };
    const load = (name: string) => require(`../../examples/${name}.json`) as N[];
    const byType = (flow: N[], type: string) => flow.filter((n) => n.type === type);
    const targets = (node: N, flow: N[]) =>
      (node.wires ?? [])
        .flat()
        .map((id) => flow.find((n) => n.id === id)!.type)
        .sort();

    // "use an Inject node … Send SMS node … the Debug node which will log the msg.payload"
    const send = load('Send an SMS');
    should(targets(byType(send, 'inject')[0], send)).eql(['sendsms']);
    should(targets(byType(send, 'sendsms')[0], send)).eql(['debug']);
    should(byType(send, 'debug')[0]).have.properties({ complete: 'payload' });

    // "make sure that the Method is set to GET … In the URL box enter /sms … Connect an http response node … Add a debug node"
    const receive = load('Receive an SMS');
    should(byType(receive, 'http in')[0]).have.properties({ method: 'get', url: '/sms' });
    should(targets(byType(receive, 'http in')[0], receive)).eql(['debug', 'http response']);

    // "In the To field … {{msg.payload.msisdn}} … From field enter {{msg.payload.to}} … In Text enter You said {{msg.payload.text}}"
    const reply = load('Reply to an SMS');
    should(byType(reply, 'http in')[0]).have.properties({ method: 'get', url: '/sms' });
    should(targets(byType(reply, 'http in')[0], reply)).eql(['http response', 'sendsms']);
    should(byType(reply, 'sendsms')[0]).have.properties({ to: '{{msg.payload.msisdn}}', fr: '{{msg.payload.to}}', text: 'You said {{msg.payload.text}}' });
  });

  it('the examples share one nexmobasic, "Vonage account", with an empty set of credentials (so the editor flags it until a key is entered) and the real Vonage API host', () => {
    for (const name of ['Send an SMS', 'Reply to an SMS', 'Receive an SMS', 'Auto-reply with SMS in', 'Track delivery receipts', 'Honour opt-outs', 'See what was spent today']) {
      const flow = require(`../../examples/${name}.json`) as Array<Record<string, unknown>>;
      const configs = flow.filter((n) => n.type === 'nexmobasic');
      if (name === 'Receive an SMS' && configs.length === 0) continue;
      should(configs).have.length(1);
      should(configs[0]).have.properties({ id: '5e4d1c0a9b8e7f05', name: 'Vonage account' });
      should(configs[0].credentials).eql({});
      should(configs[0].resthost).equal('https://rest.nexmo.com');
      should(flow[0].type).equal('comment');
      // The same in every example: whichever is imported first, the account is the same (Import copy keeps it).
      should(configs[0]).eql(require('../../examples/Send an SMS.json').find((n: { type: string }) => n.type === 'nexmobasic'));
      should(configs[0]).have.properties({ optout: true, stopreply: '' });
    }
  });
});
