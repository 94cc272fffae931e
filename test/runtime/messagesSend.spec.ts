/**
 * Send SMS on the Messages API (`api: "messages"` on nexmobasic), through the real runtime and real
 * HTTP against the loopback's POST /v1/messages: the request the spec describes, Basic or JWT auth
 * (never the webhook signature secret), every refusal in words, 429 retried after Retry-After by the
 * shared queue, 5xx retried, a timeout never retried, Check credentials, and no secret anywhere.
 */
import crypto from 'node:crypto';
import should from 'should';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, helper, nodeRedVersion, packageNodes, recordStatuses, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'msgsend1';
const API_SECRET = 'messages-send-secret-7';
const APP_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab';
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const OTHER_PEM = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe(`Send SMS on the Messages API (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10, applicationId: APP_ID, publicKey: PUBLIC_PEM }]);
  const api = loopback.api;

  function flow(config: Record<string, unknown> = {}, send: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'messages' },
      { id: 'cfg', type: 'nexmobasic', api: 'messages', resthost: loopback.restHost, timeout: 2, ...config },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload}}', fr: 'AcmeInc', text: 'Hello from the Messages API', wires: [['out']], ...send },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
  }

  async function load(config: Record<string, unknown> = {}, credentials: Record<string, string> = {}, send: Record<string, unknown> = {}): Promise<void> {
    await helper.load([...packageNodes, coreNodes.catch], flow(config, send), { cfg: { apikey: API_KEY, apisecret: API_SECRET, ...credentials } });
  }

  /**
   * Sends msgs into Send SMS; resolves with what came out and what was caught, once there are as many as
   * `outcomes` (each recipient of each msg has one: its msg out, or its error to the Catch node).
   */
  async function run(msgs: Array<Record<string, unknown>>, outcomes = msgs.length, timeoutMs?: number): Promise<{ sent: any[]; caught: any[] }> {
    const sent: any[] = [];
    const caught: any[] = [];
    helper.getNode('out').on('input', (m: any) => sent.push(m));
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    for (const msg of msgs) helper.getNode('send').receive(msg);
    await until(() => sent.length + caught.length >= outcomes, { what: () => `${outcomes} outcomes (${sent.length} sent, ${caught.length} caught so far)`, timeoutMs });
    return { sent, caught };
  }

  const messages = () => api.requests.filter((r) => r.path === '/v1/messages');
  const body = (i = 0) => JSON.parse(JSON.stringify({ ...messages()[i].params }));

  it('sends the request the spec describes, with Basic auth, and passes the 202 body on as msg.payload', async () => {
    await load({}, {}, { callback: 'https://example.com/receipts' });
    const { sent, caught } = await run([
      { payload: '+44 7700 900123', _msgid: 'abc123' },
      { payload: '447700900124', _msgid: 'def456' },
    ]);
    should(caught).be.empty();
    should(sent).have.length(2);
    should(sent[0].payload).have.keys('message_uuid');
    should(sent[0].payload.message_uuid).match(/^[0-9a-f-]{36}$/);
    should(sent[0].sms).have.properties({ to: '447700900123', from: 'AcmeInc', encoding: 'GSM-7', parts: 1 });
    should(messages()[0].auth).equal('basic');
    should(messages()[0].contentType).equal('application/json');
    should(body()).eql({
      message_type: 'text',
      channel: 'sms',
      to: '447700900123',
      from: 'AcmeInc',
      text: 'Hello from the Messages API',
      'sms.encoding_type': 'text',
      client_ref: 'abc123',
      webhook_url: 'https://example.com/receipts',
    });
  });

  it('asks for Unicode when the text needs it, as Send SMS counted it', async () => {
    await load({}, {}, { text: 'Grüße 🙂' });
    const { sent } = await run([{ payload: '447700900123' }]);
    should(sent[0].sms.encoding).equal('UCS-2');
    should(body()['sms.encoding_type']).equal('unicode');
  });

  it('signs with a JWT of the Application when its ID and private key are set, even with a signature secret on the node', async () => {
    await load({}, { appid: APP_ID, privatekey: PRIVATE_PEM.replace(/\n/g, ' '), sigsecret: 'webhook-signature-secret' });
    const { sent, caught } = await run([{ payload: '447700900123' }]);
    should(caught).be.empty();
    should(sent).have.length(1);
    should(messages()[0].auth).equal('jwt');
    const [, claims] = String(messages()[0].headers.authorization).slice(7).split('.');
    should(JSON.parse(Buffer.from(claims, 'base64url').toString())).have.properties({ application_id: APP_ID });
  });

  it('takes a private key whose line breaks are written as \\n, as a .env file or a secret store holds it', async () => {
    const escaped = `"${PRIVATE_PEM.trim().replace(/\n/g, '\\n')}"`;
    should(escaped).not.containEql('\n');
    await load({}, { appid: APP_ID, privatekey: escaped });
    const { sent, caught } = await run([{ payload: '447700900123' }]);
    should(caught).be.empty();
    should(sent).have.length(1);
    should(messages()[0].auth).equal('jwt');
  });

  it('sends one request a recipient of msg.to, fails only the bad one, and calls nothing on a dry run', async () => {
    await load({}, {}, { to: '' });
    const { sent, caught } = await run([{ payload: 'x', to: ['447700900131', 'not a number', '447700900132'] }], 3);
    should(sent.map((m) => m.to).sort()).eql(['447700900131', '447700900132']);
    for (const m of sent) should(m.payload.message_uuid).be.a.String();
    should(caught.map((m) => m.to)).eql(['not a number']);
    should(api.sentMessages.map((r) => r.params.to).sort()).eql(['447700900131', '447700900132']);
    api.reset();
    const dry = await run([{ payload: 'x', to: ['447700900133'], dryRun: true }]);
    should(dry.sent[0].payload).have.properties({ dryRun: true, to: '447700900133' });
    should(messages()).be.empty();
  });

  const refusals: Array<[string, () => void, Record<string, string>, RegExp]> = [
    ['401, wrong secret', () => {}, { apisecret: 'not-the-secret' }, /refused the SMS to 447700900123: HTTP 401 Unauthorized: You did not provide correct credentials\.: the API key or secret is wrong/],
    ['401, another private key', () => {}, { appid: APP_ID, privatekey: OTHER_PEM }, /HTTP 401 .*: the Application ID or private key is wrong/],
    ['402, no credit', () => Object.assign(api.account(API_KEY)!, { balance: 0 }), {}, /HTTP 402 Payment Required: .*balance being low.*: the account has too little credit/],
    ['403, not allowed', () => api.injectFaults({ kind: 'http', code: 403 }), {}, /HTTP 403 Forbidden: this account may not send this message/],
    ['404, not a Messages API host', () => api.injectFaults({ kind: 'http', code: 404 }), {}, /HTTP 404 Not Found: the API host does not serve the Messages API/],
    ['422, invalid', () => api.injectFaults({ kind: 'http', code: 422 }), {}, /HTTP 422 Invalid params: The value of one or more parameters is invalid\. \(text: is required\.\): Vonage refused the request as invalid/],
  ];
  for (const [name, arrange, credentials, pattern] of refusals) {
    it(`fails with a Catch-able error that says what happened and what to do: ${name}`, async () => {
      arrange();
      await load({}, credentials);
      const statuses = recordStatuses('send');
      const { sent, caught } = await run([{ payload: '447700900123' }]);
      should(sent).be.empty();
      should(caught).have.length(1);
      should(caught[0].error.message).match(pattern);
      for (const secret of [API_SECRET, 'not-the-secret', 'PRIVATE KEY', 'Basic ', 'Bearer ']) should(JSON.stringify(caught[0])).not.containEql(secret);
      // Statuses reach the editor at most every 100 ms: the last one follows.
      await until(() => statuses.at(-1)?.text === 'sendsms.status.failed', { what: 'the failed status' });
      should(statuses.at(-1)).have.properties({ fill: 'red', text: 'sendsms.status.failed' });
      // Refusals are not retried.
      should(messages()).have.length(1);
    });
  }

  it('answers 422 as application/json and 401, 402, 429 as problem details, as the spec has them', async () => {
    const post = (auth: string, payload: unknown) => fetch(`${loopback.restHost}/v1/messages`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
    const basic = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`;
    const unauthorised = await post('Basic eDp5', {});
    should(unauthorised.status).equal(401);
    should(unauthorised.headers.get('content-type')).equal('application/problem+json');
    should(await unauthorised.json()).have.properties(['type', 'title', 'instance']);
    const invalid = await post(basic, { message_type: 'text', channel: 'sms', to: '447700900123', from: 'AcmeInc' });
    should(invalid.status).equal(422);
    should(invalid.headers.get('content-type')).equal('application/json');
    should(await invalid.json()).have.properties({ title: 'Invalid params', invalid_parameters: [{ name: 'text', reason: 'is required.' }] });
    Object.assign(api.account(API_KEY)!, { ratePerSecond: 1 });
    const ok = { message_type: 'text', channel: 'sms', to: '447700900123', from: 'AcmeInc', text: 'x' };
    should((await post(basic, ok)).status).equal(202);
    const throttled = await post(basic, ok);
    should(throttled.status).equal(429);
    should(throttled.headers.get('content-type')).equal('application/problem+json');
    should(Number(throttled.headers.get('retry-after'))).be.within(1, 1);
    should(throttled.headers.get('x-ratelimit-remaining')).equal('0');
  });

  it('retries 429 after Retry-After through the shared queue, counted apart from the retries, and sends each SMS once', async () => {
    Object.assign(api.account(API_KEY)!, { ratePerSecond: 2 });
    await load({ rate: 100, retries: 0 });
    const numbers = ['447700900201', '447700900202', '447700900203', '447700900204'];
    const { sent, caught } = await run(
      numbers.map((payload) => ({ payload })),
      numbers.length,
      25_000,
    );
    should(caught).be.empty();
    should(sent.map((m) => m.sms.to).sort()).eql(numbers);
    should(messages().filter((r) => r.outcome === 'HTTP 429').length).be.above(0);
    should(api.sentMessages.map((r) => r.params.to).sort()).eql(numbers);
  });

  it("retries a 5xx in Vonage's own problem details, and never retries a timeout", async () => {
    await load({ timeout: 0.3 });
    api.injectFaults({ kind: 'http', code: 503 });
    const retried = await run([{ payload: '447700900301' }]);
    should(retried.sent).have.length(1);
    should(messages().map((r) => r.outcome)).eql(['HTTP 503', 'HTTP 202']);
    api.reset();
    api.injectFaults({ kind: 'slow', delayMs: 800 });
    const timedOut = await run([{ payload: '447700900302' }]);
    should(timedOut.sent).be.empty();
    should(timedOut.caught[0].error.message).match(/no answer from the Vonage API at .* within 0\.3 s for the SMS to 447700900302; it may have been sent/);
    should(messages()).have.length(1);
  });

  it('checks credentials for the editor on the Messages API, without sending anything, Basic or JWT', async () => {
    await load({}, { appid: APP_ID, privatekey: PRIVATE_PEM });
    const check = async (payload: Record<string, unknown>) => (await helper.request().post('/nexmobasic/check').send(payload).expect(200)).body;
    should(await check({ api: 'messages', apikey: API_KEY, apisecret: API_SECRET, resthost: loopback.restHost })).eql({ ok: true, api: 'messages', jwt: false });
    should(await check({ id: 'cfg', api: 'messages', apikey: API_KEY, apisecret: '__PWRD__', appid: APP_ID, privatekey: '__PWRD__', resthost: loopback.restHost })).eql({ ok: true, api: 'messages', jwt: true });
    const wrong = await check({ api: 'messages', apikey: API_KEY, apisecret: 'not-it', resthost: loopback.restHost });
    should(wrong).have.properties({ ok: false, blame: 'credentials' });
    should(wrong.error).match(/refused these credentials \(HTTP 401/);
    should(api.sentMessages).be.empty();
    should(JSON.stringify(wrong)).not.containEql('not-it');
  });

  it('says what is wrong with an Application ID without a private key, or a key that is not one', async () => {
    for (const [credentials, pattern] of [
      [{ appid: APP_ID }, /jwt-half/],
      [{ appid: APP_ID, privatekey: 'not a key at all' }, /the Private key is not an RSA private key in PEM form/],
    ] as const) {
      await load({}, credentials);
      const { caught } = await run([{ payload: '447700900123' }]);
      should(caught[0].error.message).match(pattern);
      should(caught[0].error.message).not.containEql('not a key at all');
      await helper.unload();
    }
  });
});
