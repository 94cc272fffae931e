/**
 * Sending at scale through the real runtime and the loopback API enforcing a rate: the shared
 * queue, retries, overflow, stop, several recipients and dry runs.
 */
import should from 'should';
import { useLoopbackApi } from '../support/loopback';
import { coreNodes, helper, nodeRedVersion, packageNodes, SHARED_STATE, type FlowNode } from '../support/nodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'bulk0001';
const API_SECRET = 'bulk-secret-123';
const DEMO_KEY = 'demo0002';

describe(`the send queue (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(60_000);
  // Tests that set a rate on the loopback account have it undone after each test.
  const loopback = useLoopbackApi([
    { apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000, ratePerSecond: undefined },
    { apiKey: DEMO_KEY, apiSecret: API_SECRET, balance: 10, testNumbers: ['447700900001'] },
  ]);
  const { api } = loopback;

  function flow(config: Record<string, unknown>, senders: Array<Partial<FlowNode>> = [{}]): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'queue' },
      { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, timeout: 2, perrecipient: 0, ...config },
      ...senders.map((send, i) => ({
        id: `send${i}`,
        z: 'tab',
        type: 'sendsms',
        creds: 'cfg',
        to: '447700900123',
        fr: 'Bulk',
        text: '{{msg.payload}}',
        wires: [['out']],
        ...send,
      })),
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
  }

  async function load(config: Record<string, unknown>, senders?: Array<Partial<FlowNode>>, apiKey = API_KEY) {
    await helper.load([...packageNodes, coreNodes.catch], flow(config, senders), { cfg: { apikey: apiKey, apisecret: API_SECRET } });
  }

  /** Collects what comes out until `count` msgs arrived in total (out + caught). */
  function collect(count: number, timeoutMs = 40_000): Promise<{ sent: any[]; caught: any[] }> {
    const sent: any[] = [];
    const caught: any[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${sent.length} sent and ${caught.length} caught of ${count}`)), timeoutMs);
      const check = () => {
        if (sent.length + caught.length >= count) {
          clearTimeout(timer);
          resolve({ sent, caught });
        }
      };
      helper.getNode('out').on('input', (m: any) => (sent.push(m), check()));
      helper.getNode('caught').on('input', (m: any) => (caught.push(m), check()));
    });
  }

  it('sends a burst of 500 at a limit of 50/s, shared by two nodes, all exactly once, with no status 1 reaching a node', async () => {
    api.account(API_KEY)!.ratePerSecond = 50;
    await load({ rate: 50 }, [{}, {}]);
    const results = collect(500);
    const started = Date.now();
    for (let i = 0; i < 500; i += 1) helper.getNode(`send${i % 2}`).receive({ payload: `message ${i}` });
    const { sent, caught } = await results;
    const seconds = (Date.now() - started) / 1000;

    should(caught).be.empty();
    should(sent).have.length(500);
    const texts = api.sent.map((r) => r.params.text);
    should(texts).have.length(500);
    should(new Set(texts).size).equal(500);
    should(sent.every((m) => m.payload.messages[0].status === '0')).be.true();
    // The queue keeps under the rate, so the loopback rarely if ever has to throttle; any it did was retried.
    should(api.requests.filter((r) => r.outcome === '1').length).be.belowOrEqual(5);
    // 500 at 50/s cannot take less than ~10 s. (How close to 10 s it comes is the bench's rate fidelity, row 2.)
    should(seconds).be.aboveOrEqual(9.5);
  });

  it('keeps each sender to the per-sender rate set on nexmobasic, senders side by side', async () => {
    await load({ rate: 100, senderrate: 2 }, [{ fr: '12025550100' }, { fr: 'Other' }]);
    const results = collect(6);
    for (let i = 0; i < 3; i += 1) {
      helper.getNode('send0').receive({ payload: `long number ${i}` });
      helper.getNode('send1').receive({ payload: `other ${i}` });
    }
    await results;
    const at = (from: string) => api.sent.filter((r) => r.params.from === from).map((r) => r.at);
    for (const from of ['12025550100', 'Other']) {
      const times = at(from);
      should(times).have.length(3);
      // 2/s each: three take a second from the first to the last.
      should(times[2] - times[0]).be.aboveOrEqual(970);
    }
    // Side by side, not one sender after the other: each sender's first SMS went before the other's second.
    const order = api.sent.map((r) => r.params.from);
    for (const [one, other] of [
      ['12025550100', 'Other'],
      ['Other', '12025550100'],
    ])
      should(order.indexOf(one)).be.below(order.indexOf(other, order.indexOf(other) + 1));
  });

  it("retries what Vonage refused in its own words (status 1 after the named wait, status 5, HTTP 503 with Vonage's JSON error) and sends the SMS once", async () => {
    await load({ retries: 3 });
    api.injectFaults({ kind: 'throttle', waitMs: 30 }, { kind: 'status', status: '5' }, { kind: 'http', code: 503 });
    const results = collect(1);
    helper.getNode('send0').receive({ payload: 'persistent' });
    const { sent, caught } = await results;
    should(caught).be.empty();
    should(sent[0].payload.messages[0].status).equal('0');
    should(api.requests.map((r) => r.outcome)).eql(['fault throttle', 'fault status', 'fault http', '0']);
    should(api.sent).have.length(1);
  });

  it('does not retry a request that may have reached Vonage (a timeout), and says so', async () => {
    await load({ retries: 3, timeout: 0.3 });
    api.injectFaults({ kind: 'slow', delayMs: 1000 });
    const results = collect(1);
    helper.getNode('send0').receive({ payload: 'slow' });
    const { caught } = await results;
    should(caught[0].error.message).match(/may have been sent: check before sending again/);
    should(api.requests).have.length(1);
  });

  it('fails a permanent refusal at once, with its code, after one request', async () => {
    await load({ retries: 3 }, [{}], DEMO_KEY);
    const results = collect(1);
    helper.getNode('send0').receive({ payload: 'hello' });
    const { caught } = await results;
    should(caught[0].error.message).match(/status 29, Non-whitelisted destination/);
    should(api.requests).have.length(1);
  });

  it('refuses at once what would overflow the queue, and sends the rest', async () => {
    await load({ rate: 5, queuesize: 3 });
    const results = collect(6);
    for (let i = 0; i < 6; i += 1) helper.getNode('send0').receive({ payload: `m${i}` });
    const { sent, caught } = await results;
    // In memory the first starts at once, three wait, and the last two find the queue full. With the
    // state in Redis, the first still waits while it asks Redis for its turn: the last three do.
    const refused = SHARED_STATE ? ['m3', 'm4', 'm5'] : ['m4', 'm5'];
    should(caught.map((m) => m.payload).sort()).eql(refused);
    for (const m of caught) should(m.error.message).match(/^the send queue is full \(3 SMS waiting\): the SMS to 447700900123 was not sent$/);
    should(sent.map((m) => m.payload.messages[0].status)).eql(Array(6 - refused.length).fill('0'));
  });

  it('on stop, lets the SMS being sent finish and fails every queued one with done(err), counted in one warning and logged one line each', async () => {
    api.account(API_KEY)!.ratePerSecond = 100;
    await load({ rate: 2 });
    const send = helper.getNode('send0');
    const errors: any[] = [];
    const warnings: any[] = [];
    const logs: any[] = [];
    // helper.unload() restores its spies before it stops the flows: record on the node itself.
    const [error, warn, log] = [send.error.bind(send), send.warn.bind(send), send.log.bind(send)];
    send.error = (...args: any[]) => (errors.push(args), error(...args));
    send.warn = (...args: any[]) => (warnings.push(args), warn(...args));
    send.log = (...args: any[]) => (logs.push(args), log(...args));
    let output = 0;
    helper.getNode('out').on('input', () => (output += 1));
    const firstSent = new Promise((resolve) => helper.getNode('out').once('input', resolve));
    for (let i = 0; i < 6; i += 1) send.receive({ payload: `m${i}` });
    await firstSent;
    const outputBeforeStop = output;
    await helper.unload();
    // done(err) reports through node.error(err, msg): one for each queued SMS, with its msg.
    const stopped = () => errors.filter(([err]) => /^sendsms\.errors\.stopped$/.test(String(err)));
    await until(() => api.sent.length + stopped().length >= 6, { what: () => `an outcome for each of the 6 SMS (${api.sent.length} sent, ${stopped().length} failed so far)` });
    const failed = stopped();
    should(api.sent.length + failed.length).equal(6);
    should(failed.length).be.aboveOrEqual(4);
    should(failed.map(([, msg]) => msg.payload)).matchEach(/^m[1-5]$/);
    should(warnings[0][0]).equal('sendsms.warn.queued-failed');
    // The flow's Catch and debug nodes stop too: every outcome during the stop is in the log, one line an SMS.
    should(warnings.slice(1).map(([text]) => text)).eql(failed.map(() => 'sendsms.warn.outcome-failed'));
    const sentWhileStopping = logs.filter(([text]) => text === 'sendsms.warn.outcome-sent').length;
    should(outputBeforeStop + sentWhileStopping).equal(api.sent.length);
  });

  it('sends to several recipients, one msg each, and fails only the bad one', async () => {
    await load({}, [{ to: '447700900001, +44 7700 900002;0044 7700 900003\nnot a number' }]);
    const results = collect(4);
    helper.getNode('send0').receive({ payload: 'to all', topic: 'kept' });
    const { sent, caught } = await results;
    should(sent.map((m) => m.sms.to).sort()).eql(['447700900001', '447700900002', '447700900003']);
    for (const m of sent) {
      should(m).have.properties({ topic: 'kept', payload: m.payload });
      should(m.payload.messages[0].to).equal(m.sms.to);
    }
    should(caught).have.length(1);
    should(caught[0].error.message).match(/To "not a number" is not a phone number/);
    should(api.sent.map((r) => r.params.to).sort()).eql(['447700900001', '447700900002', '447700900003']);
  });

  it('takes recipients from msg.to (a string or an array) when To is empty', async () => {
    await load({}, [{ to: '' }]);
    let results = collect(2);
    helper.getNode('send0').receive({ payload: 'x', to: ['447700900001', '+44 7700 900002'] });
    should((await results).sent.map((m) => m.sms.to).sort()).eql(['447700900001', '447700900002']);
    await helper.unload();
    await load({}, [{ to: '' }]);
    results = collect(1);
    helper.getNode('send0').receive({ payload: 'x', to: '+44 7700 900003' });
    should((await results).sent[0].sms.to).equal('447700900003');
  });

  it('gives each recipient of msg.to a msg whose msg.to is that recipient alone, up to 1000; refuses 1001 whole', async () => {
    await load({}, [{ to: '', dryrun: true }]);
    const numbers = Array.from({ length: 1000 }, (_, i) => String(447700900000 + i));
    const results = collect(1000);
    helper.getNode('send0').receive({ payload: 'x', to: numbers, topic: 'all' });
    const { sent, caught } = await results;
    should(caught).be.empty();
    // A copy of the whole list in each of N msgs would cost N².
    should(sent.map((m) => m.to).sort()).eql(numbers);
    should(sent.every((m) => m.sms.to === m.to && m.topic === 'all')).be.true();

    const refused = collect(1);
    helper.getNode('send0').receive({ payload: 'x', to: [...numbers, '447700901000'] });
    const {
      sent: none,
      caught: [error],
    } = await refused;
    should(none).be.empty();
    should(error.error.message).match(/^To names 1001 recipients: at most 1000 in one msg, so nothing was sent/);
    should(api.requests).be.empty();
  });

  it('dry-runs from the node option or msg.dryRun: renders, normalises and counts, and never calls Vonage', async () => {
    await load({}, [{ dryrun: true, to: '+44 7700 900123, 447700900124', text: '{{msg.payload}} ✓' }]);
    let results = collect(2);
    helper.getNode('send0').receive({ payload: 'a'.repeat(80) });
    let { sent } = await results;
    should(sent).have.length(2);
    should(sent[0].payload).have.properties({ dryRun: true, encoding: 'UCS-2', type: 'unicode', parts: 2, characters: 82 });
    await helper.unload();
    await load({});
    results = collect(1);
    helper.getNode('send0').receive({ payload: 'hello', dryRun: true });
    ({ sent } = await results);
    should(sent[0].payload).have.properties({ dryRun: true, to: '447700900123', encoding: 'GSM-7', parts: 1 });
    should(api.requests).be.empty();
  });
});
