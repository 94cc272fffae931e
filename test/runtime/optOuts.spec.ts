/**
 * Opt-outs through the real runtime and real HTTP against the loopback API: a STOP sent to SMS in
 * stops the next SMS to that number (also one already waiting in the queue), START lifts it, a
 * receipt with err-code 9 records it, the confirmations are sent once, the list node manages the
 * list, a redeploy keeps it, and `optout: false` turns it all off. npm test runs this file again with
 * every account's state in Redis (TEST_SHARED_STATE=redis), where the list lives there.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { deliver, inboundRequests } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, exampleFlow, helper, httpNodeServer, nodeRedVersion, packageNodes, recordStatuses, SHARED_STATE, USER_DIR, type FlowNode } from '../support/nodeRed';
import { DEADLINE_MS, until } from '../support/waitFor';

const API_KEY = 'optout01';
const API_SECRET = 'opt-out-secret-9';
const OUR_NUMBER = '447700900000';

describe(`Opt-outs (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
  const web = httpNodeServer();
  let url = '';
  afterEach(() => web.close());

  function flow(cfg: Record<string, unknown> = {}, send: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'opt-outs' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.api ? loopback.restHost : '', timeout: 2, ...cfg },
      { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [['in-out']] },
      { id: 'in-out', z: 'tab', type: 'helper' },
      { id: 'receipt', z: 'tab', type: 'vonage-sms-receipt', url: '/sms/receipt', wires: [['receipt-out']] },
      { id: 'receipt-out', z: 'tab', type: 'helper' },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload}}', fr: OUR_NUMBER, text: 'Your parcel is on its way', wires: [['out']], ...send },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'list', z: 'tab', type: 'vonage-optout', creds: 'cfg', wires: [['list-out']] },
      { id: 'list-out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
  }

  async function load(cfg: Record<string, unknown> = {}, send: Record<string, unknown> = {}): Promise<void> {
    await helper.load([...packageNodes, coreNodes.catch, web.capture], flow(cfg, send), { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
    url = await web.listen();
  }

  /** An inbound SMS from this number, as Vonage sends it; resolves with SMS in's msg. */
  async function reply(from: string, text: string, repeat = 1): Promise<Record<string, any>> {
    const next = nextOf('in-out');
    const [params] = inboundRequests({ msisdn: from, to: OUR_NUMBER, text }, { apiKey: API_KEY });
    for (let i = 0; i < repeat; i += 1) should(await deliver(`${url}/sms`, params, 'POST-json')).equal(200);
    return next;
  }

  function nextOf(id: string, timeoutMs = DEADLINE_MS): Promise<Record<string, any>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${id} received nothing`)), timeoutMs);
      helper.getNode(id).once('input', (msg: Record<string, any>) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
  }

  /**
   * Sends msg into Send SMS; resolves with what came out and what was caught, once there are as many as
   * `outcomes` (each recipient has one: its msg out, or its error to the Catch node).
   */
  async function send(msg: Record<string, unknown>, outcomes = 1): Promise<{ sent: any[]; caught: any[] }> {
    const sent: any[] = [];
    const caught: any[] = [];
    const onSent = (m: any) => sent.push(m);
    const onCaught = (m: any) => caught.push(m);
    helper.getNode('out').on('input', onSent);
    helper.getNode('caught').on('input', onCaught);
    helper.getNode('send').receive(msg);
    try {
      await until(() => sent.length + caught.length >= outcomes, { what: () => `${outcomes} outcomes of Send SMS (${sent.length} sent, ${caught.length} caught so far)` });
    } finally {
      helper.getNode('out').off('input', onSent);
      helper.getNode('caught').off('input', onCaught);
    }
    return { sent, caught };
  }

  /** SMS waiting in a config node's send queue, and being sent. */
  const queueDepth = (id = 'cfg') => (helper.getNode(id) as unknown as { sendQueue: { depth: number } }).sendQueue.depth;

  async function listNode(topic: string, payload?: unknown): Promise<any> {
    const next = nextOf('list-out');
    helper.getNode('list').receive({ topic, payload });
    return (await next).payload;
  }

  const sentTo = (number: string) => loopback.api.sent.filter((r) => r.params.to === number && r.params.text === 'Your parcel is on its way');

  it('records every way of writing an opt-out keyword, and Send SMS then sends nothing to those numbers and says why', async () => {
    await load();
    const statuses = recordStatuses('send');
    const variants = ['STOP', 'stop', '  Stop.  ', 'STOP!!', 'StopAll', 'unsubscribe', 'Cancel', 'end', 'QUIT', 'Revoke', 'OPTOUT', 'opt out', 'Opt  Out!'];
    for (const [i, text] of variants.entries()) {
      const number = `4477009001${String(i).padStart(2, '0')}`;
      const msg = await reply(number, text);
      should(msg.payload.optOut).equal('stop', text);
      should(msg.payload.text).equal(text);
      const { sent, caught } = await send({ payload: `+${number}` });
      should(sent).be.empty();
      should(caught).have.length(1);
      should(caught[0].error.message).match(new RegExp(`not sent to \\+${number}: this number opted out on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC \\(replied with an opt-out keyword`));
      should(caught[0].error.message).match(/START/);
      // Statuses reach the editor at most every 100 ms: the last one follows.
      await until(() => statuses.at(-1)?.text === 'sendsms.status.failed', { what: 'the red "failed" status' });
      should(statuses.at(-1)).have.properties({ fill: 'red', text: 'sendsms.status.failed' });
      should(sentTo(number)).be.empty();
    }
  });

  it('takes a text that merely contains a keyword for what it is: not an opt-out, but marked "maybe" when it has a stop word', async () => {
    await load();
    // Issue 20: a text with a stop word in it is passed on marked "maybe" (it was unmarked before), so a flow can ask once.
    for (const text of ['stop the car please', 'STOP IT NOW', 'do not stop', 'Stop texting me', 'please stop']) {
      const msg = await reply('447700900201', text);
      should(msg.payload.optOut).equal('maybe', text);
    }
    for (const text of ['stopping', 'S T O P', 'Hello']) {
      const msg = await reply('447700900201', text);
      should(msg.payload).not.have.property('optOut');
    }
    const { sent, caught } = await send({ payload: '447700900201' });
    should(caught).be.empty();
    should(sent).have.length(1);
    should(sentTo('447700900201')).have.length(1);
  });

  it('lets START, UNSTOP or YES lift an opt-out, and passes the msg on marked start', async () => {
    await load();
    for (const word of ['START', 'unstop', 'Yes!']) {
      await reply('447700900301', 'STOP');
      should((await send({ payload: '447700900301' })).caught).have.length(1);
      const msg = await reply('447700900301', word);
      should(msg.payload.optOut).equal('start');
      const { sent, caught } = await send({ payload: '447700900301' });
      should(caught).be.empty();
      should(sent).have.length(1);
    }
    should(sentTo('447700900301')).have.length(3);
  });

  it('stops an SMS already waiting in the send queue when the STOP comes before its turn', async () => {
    // One request a second: the third SMS waits about two seconds.
    await load({ rate: 1 });
    const outcome = send({ payload: '', to: ['447700900401', '447700900402', '447700900403'] }, 3);
    // Once the first has gone, the other two wait their turns.
    await until(() => sentTo('447700900401').length > 0, { what: 'the first SMS at the API' });
    await reply('447700900403', 'STOP');
    const { sent, caught } = await outcome;
    should(sent.map((m) => m.to).sort()).eql(['447700900401', '447700900402']);
    should(caught).have.length(1);
    should(caught[0].error.message).match(/not sent to \+447700900403: this number opted out/);
    should(sentTo('447700900403')).be.empty();
  });

  it('sends to the other recipients of the msg, and a dry run reports the opted-out one too', async () => {
    await load();
    await reply('447700900501', 'STOP');
    const { sent, caught } = await send({ payload: '', to: ['447700900501', '447700900502'] }, 2);
    should(sent).have.length(1);
    should(sent[0].to).equal('447700900502');
    should(caught).have.length(1);
    should(caught[0].to).equal('447700900501');
    should(caught[0].error.message).match(/opted out/);

    const dry = await send({ payload: '', to: ['447700900501', '447700900503'], dryRun: true }, 2);
    should(dry.sent).have.length(1);
    should(dry.sent[0].payload.dryRun).be.true();
    should(dry.caught).have.length(1);
    should(dry.caught[0].error.message).match(/not sent to \+447700900501/);
    should(sentTo('447700900503')).be.empty();
  });

  it('records a number whose delivery receipt says the carrier refuses it (err-code 9), and no other', async () => {
    await load({}, { callback: '' });
    for (const number of ['447700900601', '447700900602']) should((await send({ payload: number })).sent).have.length(1);
    const [refused, delivered] = [sentTo('447700900601')[0], sentTo('447700900602')[0]];
    const got: any[] = [];
    helper.getNode('receipt-out').on('input', (m: any) => got.push(m));
    should(await loopback.api.deliverReceipts({ url: `${url}/sms/receipt`, only: refused, status: 'rejected', errCode: '9' })).eql([200]);
    should(await loopback.api.deliverReceipts({ url: `${url}/sms/receipt`, only: delivered, status: 'failed', errCode: '6' })).eql([200]);
    await until(() => got.length >= 2, { what: "both receipts at SMS receipt's output" });
    should(got.map((m) => m.payload.optOut)).eql(['stop', undefined]);
    should((await send({ payload: '447700900601' })).caught[0].error.message).match(/a delivery receipt said the carrier refuses SMS to it/);
    should((await send({ payload: '447700900602' })).sent).have.length(1);
    should(await listNode('check', '447700900601')).have.properties({ optedOut: true, source: 'receipt' });
  });

  it('sends the configured confirmation once a keyword message, from the number it was sent to, even to the number that just opted out', async () => {
    await load({ stopreply: 'You will get no more SMS from us. Reply START to undo.', startreply: 'Welcome back.', helpreply: 'Acme parcels: reply STOP to stop.' });
    // Vonage's retries of the same message do not confirm twice.
    await reply('447700900701', 'stop', 3);
    await reply('447700900702', 'help');
    await listNode('add', '447700900703');
    await reply('447700900703', 'Start');
    const confirmations = () => loopback.api.sent.filter((r) => /^44770090070[123]$/.test(r.params.to));
    // A second confirmation of the first STOP would have been decided long before the last keyword's, and
    // queued before it: once that one has gone and the queue is empty, every confirmation there was has gone.
    await until(() => confirmations().some((r) => r.params.to === '447700900703') && queueDepth() === 0, { what: "the last keyword's confirmation, and an empty send queue" });
    // Each once (with a Shared state, the queue may send them in another order).
    should(
      confirmations()
        .map((r) => `${r.params.to} ${r.params.text}`)
        .sort(),
    ).eql(['447700900701 You will get no more SMS from us. Reply START to undo.', '447700900702 Acme parcels: reply STOP to stop.', '447700900703 Welcome back.']);
    for (const r of confirmations()) should(r.params.from).equal(OUR_NUMBER);
  });

  it('with several config nodes of the account, confirms with the one that has a confirmation set', async () => {
    const flowWithTwo = flow();
    flowWithTwo.push({ id: 'cfg2', type: 'nexmobasic', resthost: loopback.restHost, stopreply: 'Unsubscribed.' });
    await helper.load([...packageNodes, coreNodes.catch, web.capture], flowWithTwo, { cfg: { apikey: API_KEY, apisecret: API_SECRET }, cfg2: { apikey: API_KEY, apisecret: API_SECRET } });
    url = await web.listen();
    await reply('447700900702', 'STOP');
    // A confirmation through the other config node too would be decided with this one, and queued by then.
    await until(() => loopback.api.sent.length > 0 && queueDepth('cfg') === 0 && queueDepth('cfg2') === 0, { what: 'the confirmation, and both send queues empty' });
    should(loopback.api.sent.map((r) => [r.params.to, r.params.text])).eql([['447700900702', 'Unsubscribed.']]);
    // One list for the account: Send SMS through either config node refuses the number.
    should((await send({ payload: '447700900702' })).caught).have.length(1);
  });

  it('sends no confirmation when none is set', async () => {
    await load();
    await reply('447700900801', 'STOP');
    await reply('447700900801', 'HELP');
    // Kept as a wait: with no confirmation set, none may go at all, so no later SMS can show that none came.
    // One would be decided within moments of its keyword's answer and leave an idle queue at once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    should(loopback.api.sent).be.empty();
  });

  it('takes the keyword lists of the config node instead of the defaults', async () => {
    await load({ stopwords: 'arrêt, halt now', startwords: 'go on' });
    should((await reply('447700900901', 'Arrêt !')).payload.optOut).equal('stop');
    should((await reply('447700900902', 'halt  NOW')).payload.optOut).equal('stop');
    should((await reply('447700900903', 'STOP')).payload).not.have.property('optOut');
    should(await listNode('list')).eql([
      { number: '447700900901', since: (await listNode('check', '447700900901')).since, source: 'keyword' },
      { number: '447700900902', since: (await listNode('check', '447700900902')).since, source: 'keyword' },
    ]);
    should((await reply('447700900901', 'go on')).payload.optOut).equal('start');
    should(await listNode('check', '447700900901')).eql({ number: '447700900901', optedOut: false });
  });

  it('manages the list from a flow: add (a list, or text with a number a line), check, list, remove, and says what it could not read', async () => {
    await load({ country: 'GB' });
    const added = await listNode('add', ['+44 7700 900001', 447700900002, { number: '07700 900003' }, 'not a number', '+447700900001']);
    // Each invalid entry names its place (issue 20): `index` in an array, `line` in a text.
    should(added).have.properties({ added: 3, already: 1, invalidCount: 1, size: 3 });
    should(added.invalid).have.length(1);
    should(added.invalid[0]).have.properties({ input: 'not a number', index: 3 });
    should(added.invalid[0].error).match(/Number "not a number" is not a phone number/);
    should(await listNode('add', '447700900004\n447700900005\r\n\n')).have.properties({ added: 2, already: 0, invalidCount: 0, size: 5 });
    const list = await listNode('list');
    should(list.map((e: any) => e.number)).eql(['447700900001', '447700900002', '447700900003', '447700900004', '447700900005']);
    for (const entry of list) should(entry.source).equal('list');
    should(await listNode('check', '+447700900003')).have.properties({ number: '447700900003', optedOut: true, source: 'list' });
    should((await send({ payload: '447700900003' })).caught[0].error.message).match(/added to the opt-out list by a flow/);
    const statuses = recordStatuses('list');
    should(await listNode('remove', ['447700900003', '447700900099'])).have.properties({ removed: 1, absent: 1, size: 4 });
    should(statuses.at(-1)).have.properties({ fill: 'green', text: 'vonage-optout.status.size' });
    should((await send({ payload: '447700900003' })).sent).have.length(1);

    for (const [topic, pattern] of [
      ['delete', /bad-topic/],
      ['check', /not a phone number/],
    ] as const) {
      const caught = nextOf('caught');
      helper.getNode('list').receive({ topic, payload: topic === 'check' ? 'nobody' : '447700900001' });
      should((await caught).error.message).match(pattern);
    }
  });

  it('keeps the list across a redeploy', async () => {
    await load();
    await reply('447701900001', 'STOP');
    await helper.unload();
    await web.close();
    await load();
    should((await send({ payload: '447701900001' })).caught[0].error.message).match(/opted out/);
    if (!SHARED_STATE) {
      const file = path.join(USER_DIR, 'vonage-sms', `optouts-${API_KEY}.txt`);
      should(fs.readFileSync(file, 'utf8')).match(/^\+447701900001 \d{4}-\d{2}-\d{2}T[\d:.]+Z keyword\n$/);
    }
  });

  it('says so when a STOP names an API key no deployed account has, rather than drop it silently', async () => {
    await load();
    const warnings: string[] = [];
    const inNode = helper.getNode('in');
    const warn = inNode.warn.bind(inNode);
    inNode.warn = (text: string) => (warnings.push(text), warn(text));
    const next = nextOf('in-out');
    const [params] = inboundRequests({ msisdn: '447703900001', to: OUR_NUMBER, text: 'STOP' }, { apiKey: 'otheracct' });
    should(await deliver(`${url}/sms`, params, 'POST-json')).equal(200);
    should((await next).payload).not.have.property('optOut');
    should(warnings).eql(['vonage-sms-in.warn.optout-no-account']);
    should(await listNode('list')).eql([]);
  });

  it('with opt-outs off (optout: false), records nothing, marks nothing, and sends to anyone', async () => {
    await load({ optout: false, stopreply: 'unsubscribed' });
    should((await reply('447702900001', 'STOP')).payload).not.have.property('optOut');
    should((await send({ payload: '447702900001' })).sent).have.length(1);
    should(await listNode('list')).eql([]);
    // The list node still manages the list, and says it is not honoured.
    const statuses = recordStatuses('list');
    await listNode('add', '447702900001');
    should(statuses.at(-1)).have.properties({ fill: 'grey', text: 'vonage-optout.status.size-off' });
    should((await send({ payload: '447702900001' })).sent).have.length(1);
    // No confirmation went out.
    should(loopback.api.sent.filter((r) => r.params.text === 'unsubscribed')).be.empty();
  });

  it('the example "Honour opt-outs" imports a list, refuses to text a listed number, and confirms a STOP', async () => {
    const example = exampleFlow('Honour opt-outs', loopback.restHost);
    // A Catch node, as a user adds one to react to a refused SMS.
    example.push({ id: 'why', z: 'example-tab', type: 'catch', name: 'Not sent', scope: null, uncaught: false, wires: [['why-out']] }, { id: 'why-out', z: 'example-tab', type: 'helper' });
    // As the example's comment suggests: a confirmation of each STOP.
    Object.assign(
      example.find((node) => node.type === 'nexmobasic')!,
      { stopreply: 'You will get no more SMS from us. Reply START to get them again.' },
    );
    await helper.load([...packageNodes, coreNodes.catch, coreNodes.comment, coreNodes.inject, coreNodes.switch, web.capture], example, { '5e4d1c0a9b8e7f05': { apikey: API_KEY, apisecret: API_SECRET } });
    url = await web.listen();
    const id = (name: string) => example.find((node) => node.name === name)!.id;

    const imported = nextOf(id('Opt-out list'));
    helper.getNode(id('Import a list')).receive({});
    should((await imported).payload).have.properties({ added: 2, size: 2 });

    const why = nextOf('why-out');
    helper.getNode(id('Text +447700900001')).receive({});
    should((await why).error.message).match(/not sent to \+447700900001: this number opted out/);
    should(loopback.api.sent).be.empty();

    const marked = nextOf(id('Opted out or back in'));
    const [params] = inboundRequests({ msisdn: '447700900003', to: OUR_NUMBER, text: 'Stop' }, { apiKey: API_KEY });
    should(await deliver(`${url}/sms`, params, 'GET')).equal(200);
    should((await marked).payload).have.properties({ optOut: 'stop', msisdn: '447700900003' });
    // A second confirmation would be decided with the first, and queued by the time it has gone.
    const account = example.find((node) => node.type === 'nexmobasic')!.id;
    await until(() => loopback.api.sent.length > 0 && queueDepth(account) === 0, { what: 'the confirmation, and an empty send queue' });
    should(loopback.api.sent.map((r) => [r.params.to, r.params.from, r.params.text])).eql([['447700900003', OUR_NUMBER, 'You will get no more SMS from us. Reply START to get them again.']]);
  });
});
