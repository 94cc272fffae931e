/**
 * The edges where an SMS package texts the wrong person: numbers as Vonage writes them read against an
 * account's default country, through the real runtime and real HTTP against the loopback API. npm test
 * runs this file again with every account's state in Redis.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { deliver, inboundRequests, messagesInbound } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, exampleFlow, helper, httpNodeServer, nextMessage, nodeRedVersion, packageNodes, SHARED_STATE, USER_DIR, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'edges001';
const API_SECRET = 'edges-secret-77';

describe(`Numbers at the edges (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
  const web = httpNodeServer();
  afterEach(() => web.close());
  const nodes = [coreNodes.inject, coreNodes.comment, coreNodes.http, coreNodes.debug, ...packageNodes, web.capture];

  it("the tutorial's reply with Country DE on the account goes to the msisdn Vonage wrote, not to +49 followed by it", async () => {
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

  it('Send SMS with Country DE sends msg.to recipients and a numeric From in international form to those numbers', async () => {
    const flow = [
      { id: 'tab', type: 'tab', label: 'country' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, country: 'DE', timeout: 2 },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: '4930901820', text: 'Hallo', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load(nodes, flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
    const sent: any[] = [];
    const both = new Promise<void>((resolve) =>
      helper.getNode('out').on('input', (msg: any) => {
        sent.push(msg);
        if (sent.length === 2) resolve();
      }),
    );
    helper.getNode('send').receive({ payload: 'x', to: ['4915112345678', '0151 12345679'] });
    await both;
    should(loopback.api.sent.map((r) => [r.params.to, r.params.from]).sort()).eql([
      ['4915112345678', '4930901820'],
      ['4915112345679', '4930901820'],
    ]);
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

describe(`Opt-outs at the edges (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(60_000);
  const OUR_NUMBER = '447700900000';
  const STOP_REPLY = 'You are unsubscribed.';
  const loopback = useLoopbackApi([
    { apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000 },
    { apiKey: 'edges002', apiSecret: 'edges-secret-88', balance: 1000 },
  ]);
  const web = httpNodeServer();
  let url = '';
  afterEach(() => web.close());

  async function load(cfg: Record<string, unknown> = {}, extra: FlowNode[] = [], credentials: Record<string, Record<string, string>> = {}): Promise<void> {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'edges' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, ...cfg },
      { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [['in-out']] },
      { id: 'in-out', z: 'tab', type: 'helper' },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload}}', fr: OUR_NUMBER, text: 'Your parcel is on its way', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'list', z: 'tab', type: 'vonage-optout', creds: 'cfg', wires: [['list-out']] },
      { id: 'list-out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      ...extra,
    ];
    await helper.load([...packageNodes, coreNodes.catch, web.capture], flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET }, ...credentials });
    url = await web.listen();
  }

  /** An inbound SMS as Vonage sends it (with the message time given, and the id given for a replay); resolves with its HTTP status. */
  async function inbound(from: string, text: string, options: { at?: Date; messageId?: string; apiKey?: string } = {}): Promise<number> {
    const [params] = inboundRequests({ msisdn: from, to: OUR_NUMBER, text }, { apiKey: options.apiKey ?? API_KEY });
    if (options.at) params['message-timestamp'] = options.at.toISOString().slice(0, 19).replace('T', ' ');
    if (options.messageId) params.messageId = options.messageId;
    return deliver(`${url}/sms`, params, 'POST-json');
  }

  /** Whether Send SMS (of the node given) refuses the number as opted out. */
  async function refused(number: string, node = 'send', caughtBy = 'caught', out = 'out'): Promise<boolean> {
    let sent!: (msg: any) => void;
    let caught!: (msg: any) => void;
    const outcome = new Promise<boolean>((resolve) => {
      sent = () => resolve(false);
      caught = (msg: any) => resolve(/opted out/.test(msg.error.message));
    });
    helper.getNode(out).on('input', sent);
    helper.getNode(caughtBy).on('input', caught);
    helper.getNode(node).receive({ payload: number });
    try {
      return await outcome;
    } finally {
      helper.getNode(out).off('input', sent);
      helper.getNode(caughtBy).off('input', caught);
    }
  }

  const confirmations = () => loopback.api.sent.filter((r) => r.params.text === STOP_REPLY);
  const warnings = (node: string, pattern: RegExp) => helper.log().args.filter(([entry]: [any]) => entry.level === helper.log().WARN && entry.id === node && pattern.test(String(entry.msg))).length;

  /** SMS waiting in the account's send queue, and being sent. */
  const queueDepth = () => (helper.getNode('cfg') as unknown as { sendQueue: { depth: number } }).sendQueue.depth;

  it('sees 🛑 STOP, ＳＴＯＰ, OPT-OUT and a zero-width space for what they are, and marks "please stop" maybe without recording it', async () => {
    await load();
    for (const [i, text] of ['🛑 STOP', 'ＳＴＯＰ', 'OPT-OUT', 'S\u200BTOP', 'STOP ALL', '-stop'].entries()) {
      const number = `44770090081${i}`;
      const msg = nextMessage('in-out');
      should(await inbound(number, text)).equal(200);
      should((await msg).payload.optOut).equal('stop', text);
      should(await refused(number)).be.true(text);
    }
    const msg = nextMessage('in-out');
    should(await inbound('447700900820', 'please stop texting me')).equal(200);
    should((await msg).payload.optOut).equal('maybe');
    should(await refused('447700900820')).be.false();
  });

  it('3,000 forged STOPs send at most replylimit confirmations, leave the send queue to the flow, and warn once', async () => {
    // 10 requests a second: the 60 confirmations wait several seconds for their turns.
    await load({ stopreply: STOP_REPLY, rate: 10 });
    const numbers = Array.from({ length: 3000 }, (_, i) => String(447700910000 + i));
    let next = 0;
    const statuses: number[] = [];
    let own: Promise<Record<string, any>> | undefined;
    // How many SMS had gone when the flow's own SMS entered the send queue: counted there, not when the msg
    // came, since on its way in (the opt-out list, the send journal: Redis, under 40 webhooks at once) a
    // second may pass, and 10 confirmations with it.
    let sentBefore = -1;
    const queue = (helper.getNode('cfg') as unknown as { sendQueue: { enqueue(request: { to: string }, ...rest: unknown[]): void } }).sendQueue;
    const enqueue = queue.enqueue;
    queue.enqueue = function (request, ...rest) {
      if (request.to === '447700900830') sentBefore = loopback.api.sent.length;
      return enqueue.call(this, request, ...rest);
    };
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (next < numbers.length) {
          statuses.push(await inbound(numbers[next++], 'STOP'));
          // The flow's own SMS, once the confirmations are waiting: it goes ahead of them, and is not refused.
          if (statuses.length === 100) {
            own = nextMessage('out', 15_000);
            helper.getNode('send').receive({ payload: '447700900830' });
          }
        }
      }),
    );
    should(statuses).have.length(3000);
    should(statuses).matchEach(200);
    should((await own!).sms.to).equal('447700900830');
    await until(() => confirmations().length >= 60, { what: () => `60 confirmations (${confirmations().length} so far)`, timeoutMs: 30_000 });
    // Each STOP's confirmation was decided within moments of its answer, seconds before the 60th left the
    // queue at 10/s: one more would have gone by the time the queue is empty.
    await until(() => queueDepth() === 0, { what: () => `an empty send queue (${queueDepth()} left)` });
    should(confirmations()).have.length(60);
    // Only those already sent when it came, or handed on to the rate limiter then (its batch: at most
    // max(16, 2 × the rate) = 20), went before it; without its own lane it came 61st. With Redis it came
    // up to 26 after them while each waiting SMS woke on a timer of its own (turnLine.ts).
    const order = loopback.api.sent.map((r) => r.params.to);
    should(sentBefore).be.aboveOrEqual(0);
    should(order.indexOf('447700900830')).be.below(sentBefore + 20);
    should(warnings('in', /replies-held/)).equal(1);
    // Each of them refused from now on.
    should(await refused(numbers[2999])).be.true();
  });

  it('confirms only a STOP that changed the list: no second confirmation for a repeat or a retry, none for a number already opted out', async () => {
    await load({ stopreply: STOP_REPLY });
    should(await inbound('447700900840', 'STOP', { messageId: 'RETRIED-0840' })).equal(200);
    should(await inbound('447700900840', 'STOP', { messageId: 'RETRIED-0840' })).equal(200);
    should(await inbound('447700900840', 'stop')).equal(200);
    const added = nextMessage('list-out');
    helper.getNode('list').receive({ topic: 'add', payload: '447700900841' });
    await added;
    should(await inbound('447700900841', 'STOP')).equal(200);
    await until(() => confirmations().length >= 1, { what: 'the confirmation' });
    // Then a STOP from a number new to the list: its confirmation is decided and queued after any other
    // would have been, so once it has gone and the queue is empty, every confirmation there was has gone.
    should(await inbound('447700900842', 'STOP')).equal(200);
    await until(() => confirmations().some((r) => r.params.to === '447700900842') && queueDepth() === 0, { what: "the last STOP's confirmation, and an empty send queue" });
    const confirmed = confirmations().filter((r) => r.params.to !== '447700900842');
    should(confirmed).have.length(1);
    should(confirmed[0].params.to).equal('447700900840');
  });

  it('sends no confirmation with replylimit 0, and says so once', async () => {
    await load({ stopreply: STOP_REPLY, replylimit: 0 });
    for (let i = 0; i < 5; i += 1) should(await inbound(`44770090085${i}`, 'STOP')).equal(200);
    // Kept as a wait: with replylimit 0 no confirmation may go at all, so none can come after one that should
    // not have (the only thing that would show it is its coming). One would be decided within moments of its
    // STOP's answer and leave an idle queue at once; 800 ms is the quiet time the test has always given it.
    await new Promise((resolve) => setTimeout(resolve, 800));
    should(confirmations()).have.length(0);
    should(await refused('447700900854')).be.true();
    should(warnings('in', /replies-held/)).equal(1);
  });

  it('a retried START older than a later STOP changes nothing, nor does a replayed START, nor an old STOP after a START', async () => {
    await load();
    const t = Date.now() - 60_000;
    // STOP now; then Vonage's retry of a START written a minute before it.
    should(await inbound('447700900860', 'STOP', { at: new Date(t + 30_000) })).equal(200);
    should(await inbound('447700900860', 'START', { at: new Date(t) })).equal(200);
    should(await refused('447700900860')).be.true();
    // STOP, START, STOP, and the START replayed with its own id: still opted out.
    should(await inbound('447700900861', 'STOP', { at: new Date(t), messageId: 'A-0861' })).equal(200);
    should(await inbound('447700900861', 'START', { at: new Date(t + 10_000), messageId: 'B-0861' })).equal(200);
    should(await refused('447700900861')).be.false();
    should(await inbound('447700900861', 'STOP', { at: new Date(t + 20_000), messageId: 'C-0861' })).equal(200);
    should(await inbound('447700900861', 'START', { at: new Date(t + 10_000), messageId: 'B-0861' })).equal(200);
    should(await refused('447700900861')).be.true();
    // START, then a STOP written before it delivered late: not opted out.
    should(await inbound('447700900862', 'STOP', { at: new Date(t) })).equal(200);
    should(await inbound('447700900862', 'START', { at: new Date(t + 20_000) })).equal(200);
    should(await inbound('447700900862', 'STOP', { at: new Date(t + 10_000) })).equal(200);
    should(await refused('447700900862')).be.false();
    // A forged STOP dated in the future is taken as now: a START after it still lifts it.
    should(await inbound('447700900863', 'STOP', { at: new Date(Date.now() + 365 * 86_400_000) })).equal(200);
    should(await inbound('447700900863', 'START', { at: new Date(Date.now() + 1000) })).equal(200);
    should(await refused('447700900863')).be.false();
  });

  it('a Messages API STOP that names no account, with two API keys deployed, is recorded on both, and one warning says how to make it exact', async () => {
    await load(
      {},
      [
        { id: 'cfg2', type: 'nexmobasic', resthost: loopback.restHost },
        { id: 'send2', z: 'tab', type: 'sendsms', creds: 'cfg2', to: '{{msg.payload}}', fr: OUR_NUMBER, text: 'Hi', wires: [['out2']] },
        { id: 'out2', z: 'tab', type: 'helper' },
      ],
      { cfg2: { apikey: 'edges002', apisecret: 'edges-secret-88' } },
    );
    for (const from of ['447700900870', '447700900871']) {
      const webhook = messagesInbound({ from, to: OUR_NUMBER, text: 'STOP' });
      should((await fetch(`${url}/sms`, { method: 'POST', headers: webhook.headers, body: webhook.body })).status).equal(200);
    }
    should(await refused('447700900870')).be.true();
    should(await refused('447700900870', 'send2', 'caught', 'out2')).be.true();
    should(await refused('447700900871', 'send2', 'caught', 'out2')).be.true();
    should(warnings('in', /optout-ambiguous/)).equal(1);
  });

  it('the list node names the line of each entry of an imported list it cannot read, and reads Windows line ends, a byte order mark and comments', async () => {
    await load();
    const added = nextMessage('list-out');
    helper.getNode('list').receive({ topic: 'add', payload: '\uFEFF447700900880\r\n# exported 2026-12-01\r\n\r\nnot a number\r\n+44 7700 900881\r\n447700900882;447700900883\r\n' });
    const result = (await added).payload;
    should(result).have.properties({ added: 4, invalidCount: 1 });
    should(result.invalid).have.length(1);
    should(result.invalid[0]).have.properties({ input: 'not a number', line: 4 });
    // "line 4: Number …" (the test runtime leaves message keys untranslated).
    should(result.invalid[0].error).match(/^(line 4|vonage-optout\.errors\.at-line): Number "not a number" is not a phone number/);
  });
});

// The file is the list only without a Shared state.
if (!SHARED_STATE)
  describe(`An opt-out list file written by hand (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(30_000);
    const loopback = useLoopbackApi([{ apiKey: 'handlist', apiSecret: 'hand-secret-5', balance: 10 }]);

    it('loads every readable number (Windows line ends, a byte order mark, numbers without a mark) and names each unreadable line in one warning', async () => {
      const file = path.join(USER_DIR, 'vonage-sms', 'optouts-handlist.txt');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const lines = ['+447700900890 2026-12-01T10:00:00.000Z keyword', '447700900891', '# from the old system', '', '+44 7700 900892', 'call me maybe', '-447700900890', '447700900893 ', 'x', ''];
      fs.writeFileSync(file, `\uFEFF${lines.join('\r\n')}`);
      await helper.load(
        [...packageNodes],
        [
          { id: 'tab', type: 'tab', label: 'hand' },
          { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost },
          { id: 'list', z: 'tab', type: 'vonage-optout', creds: 'cfg', wires: [['list-out']] },
          { id: 'list-out', z: 'tab', type: 'helper' },
        ],
        { cfg: { apikey: 'handlist', apisecret: 'hand-secret-5' } },
      );
      const listed = nextMessage('list-out');
      helper.getNode('list').receive({ topic: 'list' });
      should(((await listed).payload as Array<{ number: string }>).map((e) => e.number)).eql(['447700900891', '447700900892', '447700900893']);
      const warned = helper
        .log()
        .args.map(([entry]: [any]) => entry)
        .filter((entry: any) => entry.level === helper.log().WARN && entry.id === 'cfg');
      should(warned).have.length(1);
      should(warned[0].msg).equal('nexmobasic.warn.optout-file-unreadable');
    });
  });
