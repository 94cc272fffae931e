/**
 * Send SMS and nexmobasic through the real Node-RED runtime and real HTTP against the loopback
 * Vonage SMS API: templates, numbers, encoding, every failure path reaching a Catch node,
 * status dots, and secrets that never leave the config node.
 */
import should from 'should';
import { LoopbackVonageSmsApi, type Fault } from '../../dev/loopback/vonageSmsApi';
import { freePort } from '../support/ports';
import { helper, nodeRedVersion, packageNodes, recordStatuses, coreNodes, USER_DIR, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'abcd1234';
const API_SECRET = 'Zx9-very-secret-Qw7';
const DEMO_KEY = 'demo0001';
const BASIC_HEADER = Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64');

type Outcome = { sent?: Record<string, any>; caught?: Record<string, any> };

describe(`Send SMS (Node-RED ${nodeRedVersion})`, function () {
  const api = new LoopbackVonageSmsApi([
    { apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 },
    { apiKey: DEMO_KEY, apiSecret: API_SECRET, balance: 2, testNumbers: ['447700900001'] },
  ]);
  let restHost: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const consoleErrors: unknown[][] = [];
  const realConsoleError = console.error;

  before(async () => {
    restHost = await api.listen();
    helper.settings({ userDir: USER_DIR, contextStorage: { default: { module: 'memory' }, alt: { module: 'memory' } } });
    process.on('unhandledRejection', onUnhandled);
    console.error = (...args: unknown[]) => {
      consoleErrors.push(args);
    };
  });
  after(async () => {
    console.error = realConsoleError;
    process.off('unhandledRejection', onUnhandled);
    helper.settings({ userDir: USER_DIR });
    await api.close();
  });
  afterEach(async () => {
    api.reset();
    await helper.unload();
    should(unhandled).be.empty();
    should(consoleErrors).be.empty();
  });

  function flow(send: Partial<FlowNode> = {}, config: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'cfg', type: 'nexmobasic', name: '', resthost: restHost, country: '', timeout: 2, ...config },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'AcmeInc', text: 'Hello', unicode: false, name: '', wires: [['out']], ...send },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
  }

  async function load(send: Partial<FlowNode> = {}, config: Record<string, unknown> = {}, credentials: Record<string, string> = { apikey: API_KEY, apisecret: API_SECRET }) {
    await helper.load([...packageNodes, coreNodes.catch], flow(send, config), { cfg: credentials });
  }

  /** Sends msg into Send SMS and resolves with what came out: the output or the Catch node's msg. */
  function run(msg: Record<string, unknown> = { payload: 'go' }): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither output nor Catch received a msg')), 8000);
      helper.getNode('out').once('input', (m: Record<string, any>) => {
        clearTimeout(timer);
        resolve({ sent: m });
      });
      helper.getNode('caught').once('input', (m: Record<string, any>) => {
        clearTimeout(timer);
        resolve({ caught: m });
      });
      helper.getNode('send').receive(msg);
    });
  }

  async function expectFailure(pattern: RegExp, msg?: Record<string, unknown>): Promise<Record<string, any>> {
    const statuses = recordStatuses('send');
    const { sent, caught } = await run(msg);
    should(sent).be.undefined();
    should(caught!.error.message).match(pattern);
    // Text, as core nodes report: shown in full in the debug sidebar, with no stack trace of node_modules paths.
    should(caught!.error).not.have.property('stack');
    should(caught!.error.message).not.match(/^\w*Error:/);
    should(caught!.error.source.id).equal('send');
    // Statuses reach the editor at most every 100 ms: the last one follows.
    await until(() => statuses.at(-1)?.text === 'sendsms.status.failed', { what: 'the red "failed" status' });
    const last = statuses[statuses.length - 1];
    should(last).have.properties({ fill: 'red', shape: 'ring', text: 'sendsms.status.failed' });
    return caught!;
  }

  describe('sending', () => {
    it('passes the incoming msg on, keeping its other properties, with msg.payload = the SMS API response', async () => {
      await load();
      const { sent } = await run({ payload: 'go', topic: 'greeting', _custom: { a: 1 } });
      should(sent!.topic).equal('greeting');
      should(sent!._custom).eql({ a: 1 });
      should(sent!.payload).have.properties({ 'message-count': '1' });
      should(sent!.payload.messages[0]).have.properties({ status: '0', to: '447700900123' });
    });

    it("normalises numbers to E.164 digits, as the tutorial's notice says", async () => {
      const cases: Array<[string, string, string]> = [
        ['+44 7700 900123', '', '447700900123'],
        ['0044 7700 900123', '', '447700900123'],
        ['(212) 555-1212', 'US', '12125551212'],
        ['07000 900 123', 'GB', '447000900123'],
      ];
      for (const [to, country, expected] of cases) {
        await load({ to }, { country });
        const { sent } = await run();
        should(sent!.sms.to).equal(expected);
        should(api.requests[api.requests.length - 1].params.to).equal(expected);
        await helper.unload();
      }
    });

    it('chooses GSM-7 when it fits, Unicode otherwise, and says which and how many parts', async () => {
      await load({ text: 'Ünïcödé? No: Ü and ö are GSM-7, but ✓ is not' });
      let { sent } = await run();
      should(sent!.sms).have.properties({ type: 'unicode', encoding: 'UCS-2', parts: 1 });
      should(api.requests[0].params.type).equal('unicode');
      await helper.unload();

      await load({ text: 'a'.repeat(161) });
      const statuses = recordStatuses('send');
      ({ sent } = await run());
      await until(() => statuses.at(-1)?.text === 'sendsms.status.sent-many', { what: 'the green "sent" status' });
      should(sent!.sms).have.properties({ type: 'text', encoding: 'GSM-7', parts: 2, characters: 161 });
      should(sent!.payload['message-count']).equal('2');
      should(sent!.payload.messages).have.length(2);
      should(statuses[statuses.length - 1]).have.properties({ fill: 'green', text: 'sendsms.status.sent-many' });
      await helper.unload();

      await load({ text: 'plain ASCII', unicode: true });
      ({ sent } = await run());
      should(sent!.sms).have.properties({ type: 'unicode', encoding: 'UCS-2' });
      should(api.requests[api.requests.length - 1].params.type).equal('unicode');
    });

    it('sends text exactly as typed: no HTML escaping, in the field or in values', async () => {
      const typed = `It's <5> & "ok"`;
      await load({ text: `${typed} / {{msg.payload}}` });
      await run({ payload: typed });
      should(api.requests[0].params.text).equal(`${typed} / ${typed}`);
    });

    it('fills templates from msg, flow, global (any context store) and env; a missing value renders empty', async () => {
      process.env.VONAGE_TEST_SENDER = 'EnvSender';
      try {
        await load({
          to: '{{msg.payload.msisdn}}',
          fr: '{{env.VONAGE_TEST_SENDER}}',
          text: '{{flow.greeting}} {{global.owner}}, {{flow[alt].mood}}{{msg.missing}}{{flow.missing}}!',
        });
        const send = helper.getNode('send');
        send.context().flow.set('greeting', 'Hi');
        send.context().global.set('owner', 'Ada');
        await new Promise<void>((resolve, reject) => send.context().flow.set('mood', 'cheerful', 'alt', (err?: Error) => (err ? reject(err) : resolve())));
        const { sent } = await run({ payload: { msisdn: '447700900001' } });
        should(sent!.sms).have.properties({ to: '447700900001', from: 'EnvSender', text: 'Hi Ada, cheerful!' });
        should(api.requests[0].params).have.properties({ to: '447700900001', from: 'EnvSender', text: 'Hi Ada, cheerful!' });
      } finally {
        delete process.env.VONAGE_TEST_SENDER;
      }
    });

    it('shows a blue "sending" dot, the queue depth while it is not empty, then a green "sent" dot', async () => {
      // Statuses are coalesced to one each 100 ms: a slow rate keeps SMS queued long enough to show it.
      await load({}, { rate: 4 });
      const statuses = recordStatuses('send');
      helper.getNode('send').receive({ payload: 'first' });
      helper.getNode('send').receive({ payload: 'second' });
      await run();
      // Until the queue is empty (at 4/s, about half a second), then the status coalesced in the last 100 ms.
      const queue = (helper.getNode('cfg') as unknown as { sendQueue: { depth: number } }).sendQueue;
      await until(() => queue.depth === 0, { what: () => `the queue to be empty (${queue.depth} left)` });
      await until(() => statuses.at(-1)?.text === 'sendsms.status.sent-one', { what: 'the green "sent" status' });
      should(statuses[0]).eql({ fill: 'blue', shape: 'dot', text: 'sendsms.status.sending' });
      should(statuses).containEql({ fill: 'blue', shape: 'ring', text: 'sendsms.status.queued' });
      should(statuses[statuses.length - 1]).eql({ fill: 'green', shape: 'dot', text: 'sendsms.status.sent-one' });
    });

    it('shows the shared queue on every Send SMS node using the account, then each its own status again', async () => {
      const twoSenders = [...flow({}, { rate: 4 }), { id: 'idle', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900124', fr: 'AcmeInc', text: 'Hi', wires: [[]] }];
      await helper.load([...packageNodes, coreNodes.catch], twoSenders, { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
      const idle = recordStatuses('idle');
      const busy = recordStatuses('send');
      helper.getNode('send').receive({ payload: 'one' });
      await run({ payload: 'two' });
      // The second SMS leaves ~250 ms after the first (4/s); the statuses coalesced in the last 100 ms follow.
      const queue = (helper.getNode('cfg') as unknown as { sendQueue: { depth: number } }).sendQueue;
      await until(() => queue.depth === 0, { what: () => `the queue to be empty (${queue.depth} left)` });
      await until(() => idle.length > 0 && Object.keys(idle.at(-1)!).length === 0 && busy.at(-1)?.text === 'sendsms.status.sent-one', { what: "both nodes' last statuses" });
      should(idle).containEql({ fill: 'blue', shape: 'ring', text: 'sendsms.status.queued' });
      should(idle[idle.length - 1]).eql({});
      should(busy[busy.length - 1]).have.properties({ fill: 'green', text: 'sendsms.status.sent-one' });
    });
  });

  describe('failures reach a Catch node, with a red ring, and nothing is passed on', () => {
    // The last column: msg.sms.maybeSent at the Catch node (issue 21): true when the SMS may have reached Vonage.
    const vonageFaults: Array<[string, Fault, RegExp, boolean]> = [
      ['status 1 (throttled) more often than the queue retries', { kind: 'throttle', waitMs: 1 }, /status 1, Throttled.*please wait \[ 1 \]/, false],
      ['status 5 (internal error)', { kind: 'status', status: '5', errorText: 'Internal Error' }, /status 5, Internal error: .*retry later/, false],
      ["HTTP 500 in Vonage's own JSON", { kind: 'http', code: 500 }, /answered HTTP 500 .*\(Vonage said: "Internal Server Error"\): a server error at Vonage; the SMS was not sent/, false],
      ['HTTP 401', { kind: 'http', code: 401 }, /answered HTTP 401/, false],
      [
        'a 502 with an empty body after the API accepted the SMS',
        { kind: 'accepted-then', answer: 'http-502-empty' },
        /answered HTTP 502 Bad Gateway .*not in Vonage's own words .*may have been sent: check before sending again/,
        true,
      ],
      ['a dropped connection', { kind: 'drop' }, /connection .* failed .*it may have been sent/, true],
      ['an answer that is not JSON', { kind: 'not-json' }, /did not answer with an SMS API JSON response/, true],
      ['a timeout', { kind: 'slow', delayMs: 1500 }, /no answer from the Vonage API .* within 0\.5 s .*it may have been sent: check before sending again/, true],
    ];
    for (const [name, fault, pattern, maybeSent] of vonageFaults) {
      it(`on ${name}`, async () => {
        // retries: 0, so that a transient fault is the answer; throttling has an allowance of its own (20).
        await load({}, { timeout: 0.5, retries: 0 });
        api.injectFaults(...Array.from({ length: fault.kind === 'throttle' ? 21 : 1 }, () => fault));
        const caught = await expectFailure(pattern, { payload: 'keep me', topic: 't' });
        should(caught).have.properties({ payload: 'keep me', topic: 't' });
        should(caught.sms).have.properties({ to: '447700900123', maybeSent });
      });
    }

    it('on one refused part of a long SMS, saying which and that the rest may have been sent', async () => {
      await load({ text: 'x'.repeat(200) });
      api.injectFaults({ kind: 'partial', status: '5', errorText: 'Internal Error' });
      const caught = await expectFailure(/Vonage refused 1 of 2 parts of the SMS to 447700900123: status 5, Internal error.*; the other 1 part was accepted, so the recipient may get part of the text$/);
      should(caught.payload).equal('go');
      should(caught.sms.maybeSent).equal(true);
    });

    it('on status 29: the account is in demo mode, with what to do', async () => {
      await load({}, {}, { apikey: DEMO_KEY, apisecret: API_SECRET });
      await expectFailure(/status 29, Non-whitelisted destination: the account is in demo mode: add the number as a test number .* or top up/);
      should(api.sent).be.empty();
    });

    it('on status 4: wrong credentials', async () => {
      await load({}, {}, { apikey: API_KEY, apisecret: 'wrong-secret' });
      await expectFailure(/status 4, Invalid credentials/);
    });

    it('on a refused connection, saying the SMS was not sent', async () => {
      await load({}, { resthost: `http://127.0.0.1:${await freePort()}` });
      await expectFailure(/could not connect to the Vonage API .*ECONNREFUSED.*was not sent/);
    });

    const badInputs: Array<[string, Partial<FlowNode>, RegExp, Record<string, unknown>?]> = [
      ['an invalid To, naming the field and value', { to: 'call me maybe' }, /^To "call me maybe" is not a phone number/],
      ['a To that renders empty', { to: '{{msg.payload.nobody}}' }, /^To is empty/],
      ['a national To with no default country', { to: '07700 900123' }, /^To "07700 900123" is in national format/],
      ['an impossible To', { to: '+44 12' }, /^To "\+44 12" is not a possible number for \+44/],
      ['a sender ID over 11 characters', { fr: 'MyLongCompanyName' }, /^From "MyLongCompanyName" is too long for a sender ID: 17 characters, at most 11/],
      ['an empty Text', { text: '{{msg.payload}}' }, /^Text is empty/, { payload: '' }],
      ['a Text over 3,200 characters', { text: '{{msg.payload}}' }, /^Text is 3201 characters long/, { payload: 'x'.repeat(3201) }],
    ];
    for (const [name, send, pattern, msg] of badInputs) {
      it(`on ${name}, sending nothing`, async () => {
        await load(send);
        await expectFailure(pattern, msg);
        should(api.requests).be.empty();
      });
    }

    it('on a template that does not parse: a node error at deploy, and an error for every msg', async () => {
      await load({ text: 'Hello {{msg.payload.name' });
      const deployErrors = helper.log().args.filter((a: any[]) => a[0].level === helper.log().ERROR && a[0].id === 'send');
      should(deployErrors).have.length(1);
      should(deployErrors[0][0].msg).match(/^Text: the template does not parse: Unclosed tag/);
      await expectFailure(/^Text: the template does not parse: Unclosed tag at 24/);
      should(api.requests).be.empty();
    });

    it('without a config node', async () => {
      await load({ creds: '' });
      await expectFailure(/^sendsms\.errors\.no-creds$/);
    });

    it('with a config node that has no API secret', async () => {
      await load({}, {}, { apikey: API_KEY });
      await expectFailure(/^nexmobasic\.errors\.no-apisecret$/);
      should(api.requests).be.empty();
    });

    it('with a config node whose country is not a country', async () => {
      await load({}, { country: 'XX' });
      await expectFailure(/^nexmobasic\.errors\.bad-country$/);
    });
  });

  describe('the nexmobasic config node', () => {
    it('reads ${ENV_VAR} in its credential fields', async () => {
      process.env.VONAGE_TEST_KEY = API_KEY;
      process.env.VONAGE_TEST_SECRET = API_SECRET;
      try {
        await load({}, {}, { apikey: '${VONAGE_TEST_KEY}', apisecret: '${VONAGE_TEST_SECRET}' });
        const { sent } = await run();
        should(sent).be.ok();
        should(api.requests[0]).have.properties({ auth: 'basic', apiKey: API_KEY, outcome: '0' });
      } finally {
        delete process.env.VONAGE_TEST_KEY;
        delete process.env.VONAGE_TEST_SECRET;
      }
    });

    it('holds one SMS API client, shared by every Send SMS node that selects it, and builds a new one on redeploy', async () => {
      const twoSenders = [...flow(), { id: 'send2', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900124', fr: 'AcmeInc', text: 'Hi', wires: [['out']] }];
      const credentials = { cfg: { apikey: API_KEY, apisecret: API_SECRET } };
      await helper.load([...packageNodes, coreNodes.catch], twoSenders, credentials);
      const config = helper.getNode('cfg');
      const client = config.client;
      should(client.constructor.name).equal('VonageSmsClient');
      should(config.client).equal(client);
      const sent = new Promise((resolve) => {
        let count = 0;
        helper.getNode('out').on('input', () => (count += 1) === 2 && resolve(count));
      });
      helper.getNode('send').receive({});
      helper.getNode('send2').receive({});
      await sent;
      should(config.client).equal(client);
      should(api.sent.map((r) => r.params.to).sort()).eql(['447700900123', '447700900124']);
      await helper.unload();

      await helper.load([...packageNodes, coreNodes.catch], twoSenders, credentials);
      should(helper.getNode('cfg').client).not.equal(client);
    });

    it('checks credentials for the editor: the balance as typed, or with the stored secret, and never answers with a secret', async () => {
      await load();
      const check = (body: Record<string, unknown>) => helper.request().post('/nexmobasic/check').send(body).expect(200);
      const typed = await check({ apikey: API_KEY, apisecret: API_SECRET, resthost: restHost });
      const balance = Number(api.account(API_KEY)!.balance.toFixed(8));
      should(typed.body).eql({ ok: true, balance, autoReload: false });
      const stored = await check({ id: 'cfg', apikey: API_KEY, apisecret: '__PWRD__', resthost: restHost });
      should(stored.body).have.properties({ ok: true, balance });
      const wrong = await check({ id: 'cfg', apikey: 'not-a-key', apisecret: 'not-it', resthost: restHost });
      // The API's own words come along: the loopback's name the keys it accepts (and no secret).
      should(wrong.body).eql({
        ok: false,
        blame: 'credentials',
        error: `the Vonage API at ${restHost} refused this API key and secret (HTTP 401: "authentication failed: this loopback Vonage API accepts the API key "${API_KEY}", "${DEMO_KEY}"")`,
      });
      const missing = await check({ apikey: API_KEY, resthost: restHost });
      should(missing.body).eql({ ok: false, blame: 'credentials', error: 'nexmobasic.errors.no-apisecret' });
      // A wrong host is the host's fault, not the credentials'.
      const refused = await check({ apikey: API_KEY, apisecret: API_SECRET, resthost: `http://127.0.0.1:${await freePort()}` });
      should(refused.body).have.properties({ ok: false, blame: 'host' });
      should(refused.body.error).match(/^could not connect to the API host http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
      should(await check({ apikey: API_KEY, apisecret: API_SECRET, resthost: 'ftp://example.com' })).have.properties({ body: { ok: false, blame: 'host', error: 'nexmobasic.errors.bad-resthost' } });
      const notVonage = await check({ apikey: API_KEY, apisecret: API_SECRET, resthost: `${restHost}/not-here` });
      should(notVonage.body).have.properties({ ok: false, blame: 'host' });
      should(notVonage.body.error).match(/answered HTTP 404 to the balance check: it may not be a Vonage API host$/);
      should(api.requests.filter((r) => r.path === '/account/get-balance').map((r) => r.outcome)).eql(['HTTP 200', 'HTTP 200', 'HTTP 401']);
      should(JSON.stringify([typed.body, stored.body, wrong.body, refused.body])).not.containEql(API_SECRET);
    });

    it('sends a deployed secret only to the deployed API host, and reads ${NAME} only in deployed credentials', async () => {
      const other = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 1 }]);
      const otherHost = await other.listen();
      process.env.CHECK_TEST_SECRET = API_SECRET;
      try {
        await helper.load([...packageNodes, coreNodes.catch], flow(), { cfg: { apikey: API_KEY, apisecret: '${CHECK_TEST_SECRET}' } });
        const check = async (body: Record<string, unknown>) => (await helper.request().post('/nexmobasic/check').send(body).expect(200)).body;
        // The deployed secret, read from the environment by Node-RED at deploy, to the deployed host: it works.
        should(await check({ id: 'cfg', apikey: API_KEY, apisecret: '__PWRD__', resthost: restHost })).have.properties({ ok: true });
        should(await check({ id: 'cfg', apikey: '${CHECK_TEST_KEY}', apisecret: '${CHECK_TEST_SECRET}', resthost: restHost })).have.properties({ ok: true });
        // To any other host, the deployed secret is not sent.
        const elsewhere = await check({ id: 'cfg', apikey: API_KEY, apisecret: '__PWRD__', resthost: otherHost });
        should(elsewhere).eql({ ok: false, blame: 'host', error: 'nexmobasic.errors.check-other-host' });
        // What is typed is sent as typed; ${NAME} typed for a node not deployed is not read from the environment.
        should(await check({ apikey: API_KEY, apisecret: '${CHECK_TEST_SECRET}', resthost: otherHost })).eql({ ok: false, blame: 'credentials', error: 'nexmobasic.errors.check-env' });
        should(await check({ id: 'cfg', apikey: API_KEY, apisecret: API_SECRET, resthost: otherHost })).have.properties({ ok: true });
        should(other.requests.map((r) => r.headers.authorization)).eql([`Basic ${BASIC_HEADER}`]);
        should(api.requests.filter((r) => r.path === '/account/get-balance')).have.length(2);
      } finally {
        delete process.env.CHECK_TEST_SECRET;
        await other.close();
      }
    });

    it('uses VONAGE_REST_HOST, then Vonage, when the flow names no API host', async () => {
      process.env.VONAGE_REST_HOST = restHost;
      try {
        await load({}, { resthost: undefined });
        should(helper.getNode('cfg').client.account.restHost).equal(restHost);
        await helper.unload();
      } finally {
        delete process.env.VONAGE_REST_HOST;
      }
      await load({}, { resthost: undefined });
      should(helper.getNode('cfg').client.account.restHost).equal('https://rest.nexmo.com');
    });
  });

  it('runs a flow written for node-red-contrib-nexmo unchanged', async () => {
    // As node-red-contrib-nexmo exported it: nexmobasic with no API host, sendsms with creds/to/fr/text/unicode.
    const legacy = [
      { id: 'f1', type: 'tab', label: 'Flow 1' },
      { id: 'c1', type: 'nexmobasic', name: 'my key' },
      { id: 's1', z: 'f1', type: 'sendsms', name: 'Alert', creds: 'c1', to: '447700900123', fr: 'Alerts', text: 'Alarm: {{msg.payload}}', unicode: false, x: 300, y: 100, wires: [['d1']] },
      { id: 'd1', z: 'f1', type: 'helper' },
    ];
    process.env.VONAGE_REST_HOST = restHost;
    try {
      await helper.load(packageNodes, legacy, { c1: { apikey: API_KEY, apisecret: API_SECRET } });
      const out = new Promise<Record<string, any>>((resolve) => helper.getNode('d1').once('input', resolve));
      helper.getNode('s1').receive({ payload: 'door open' });
      const msg = await out;
      should(msg.payload.messages[0].status).equal('0');
      should(api.sent[0].params).have.properties({ to: '447700900123', from: 'Alerts', text: 'Alarm: door open' });
    } finally {
      delete process.env.VONAGE_REST_HOST;
    }
  });

  it('never puts the API secret or the Basic auth header in a msg, a status, an error or a log line', async () => {
    const seen: unknown[] = [];
    const faults: Fault[] = [{ kind: 'http', code: 500 }, { kind: 'http', code: 401 }, { kind: 'drop' }, { kind: 'not-json' }, { kind: 'status', status: '5' }];
    await load({}, { timeout: 0.5, retries: 0 });
    const send = helper.getNode('send');
    send.on('call:status', (call: { args: unknown[] }) => seen.push(call.args));
    for (const fault of faults) {
      api.injectFaults(fault);
      const { caught } = await run({ payload: 'x' });
      seen.push(caught, caught!.error.message);
    }
    const { sent } = await run({ payload: 'x' });
    seen.push(sent);
    seen.push(helper.log().args);
    const text = JSON.stringify(seen);
    should(text.length).be.above(1000);
    should(text).not.containEql(API_SECRET);
    should(text).not.containEql(BASIC_HEADER);
    should(text).not.match(/authorization/i);
    // The loopback did receive them: the test would see a leak if there were one.
    should(api.requests[0].headers.authorization).equal(`Basic ${BASIC_HEADER}`);
  });
});
