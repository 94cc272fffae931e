/**
 * The edges where an SMS package texts the wrong person: numbers as Vonage writes them read against an
 * account's default country, through the real runtime and real HTTP against the loopback API. npm test
 * runs this file again with every account's state in Redis.
 */
import should from 'should';
import { deliver, inboundRequests } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, exampleFlow, helper, httpNodeServer, nextMessage, nodeRedVersion, packageNodes } from '../support/nodeRed';

const API_KEY = 'edges001';
const API_SECRET = 'edges-secret-77';

describe(`Numbers at the edges (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
  const web = httpNodeServer();
  afterEach(() => web.close());
  const nodes = [coreNodes.inject, coreNodes.comment, coreNodes.http, coreNodes.debug, ...packageNodes, web.capture];

  it('the tutorial\'s reply with Country DE on the account goes to the msisdn Vonage wrote, not to +49 followed by it', async () => {
    const flow = exampleFlow('Reply to an SMS', loopback.restHost);
    const config = flow.find((n) => n.type === 'nexmobasic')!;
    config.country = 'DE';
    await helper.load(nodes, flow, { [config.id]: { apikey: API_KEY, apisecret: API_SECRET } });
    const url = await web.listen();
    for (const [i, msisdn] of ['4915112345678', '447911123456', '6281234567890'].entries()) {
      const debug = nextMessage('7b4c3d2e1f0a9b05');
      const status = await deliver(`${url}/sms`, inboundRequests({ msisdn, to: '4915100000000', text: `Hi ${i}` })[0]);
      should(status).equal(200);
      const msg = await debug;
      should(msg.payload.messages[0]).have.properties({ to: msisdn, status: '0' });
      should(loopback.api.sent.at(-1)!.params).have.properties({ to: msisdn, text: `You said Hi ${i}` });
    }
    should(loopback.api.sent).have.length(3);
  });

  it('national numbers as people write them still reach their country, in Send SMS and the opt-out list node alike', async () => {
    const flow = [
      { id: 'tab', type: 'tab', label: 'numbers' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, country: 'DE' },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload}}', fr: 'Acme', text: 'Hallo', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'list', z: 'tab', type: 'vonage-optout', creds: 'cfg', wires: [['list-out']] },
      { id: 'list-out', z: 'tab', type: 'helper' },
    ];
    await helper.load([...packageNodes], flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
    const sent = nextMessage('out');
    helper.getNode('send').receive({ payload: '0151 12345678' });
    should((await sent).sms.to).equal('4915112345678');

    const list = async (topic: string, payload?: unknown) => {
      const next = nextMessage('list-out');
      helper.getNode('list').receive({ topic, payload });
      return (await next).payload;
    };
    // The list node reads numbers by the same rule: Vonage's form, a national one, and a line of an import.
    await list('add', ['4915112345679', '0151 12345670']);
    await list('add', '447911123456\n0151 12345671');
    const numbers = ((await list('list')) as Array<{ number: string }>).map((entry) => entry.number).sort();
    should(numbers).eql(['447911123456', '4915112345670', '4915112345671', '4915112345679']);
    should(await list('check', '4915112345679')).have.properties({ optedOut: true });
    should(await list('check', '015112345679')).have.properties({ optedOut: true });
  });
});
