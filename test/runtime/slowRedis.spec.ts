/**
 * A Shared state whose Redis answers late (issue 21, parts 2 and 4), through the real runtime over
 * real HTTP: a proxy (test/support/redisProxy.ts) between Node-RED and a real redis-server holds
 * every answer back 2.5 s, past the client's 2 s command timeout, for 10 s. Redis runs each command
 * all the same. Every webhook is retried, as Vonage does, until it is answered 200: each SMS and
 * receipt must be passed on exactly once, long SMS whole, and the account's node warns once, with
 * the figure, not once a command. Here RED._ writes its values after the key, so they can be read.
 */
import should from 'should';
import { deliver, deliverMessages, inboundRequests, messagesInbound, receiptFor, vonageMessageId } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { drained, helper, httpNodeServer, isMarker, nodeRedVersion, packageNodes } from '../support/nodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { startRedisProxy, type RedisProxy } from '../support/redisProxy';
import { until } from '../support/waitFor';
import type { AccountState } from '../../src/state/accountState';

const API_KEY = 'slowred1';
const SECRET = 'slow-redis-api-secret';
const PASSWORD = 'slow-redis-pass-word';
const OUR_NUMBER = '447700900000';

/** RED._ that shows its values: `key {"count":3}`. */
const showValues = ((RED: { _: unknown }) => {
  RED._ = (key: string, values?: object) => (values ? `${key} ${JSON.stringify(values)}` : key);
}) as (RED: unknown) => void;

describe(`a Shared state whose Redis answers late (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(120_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: SECRET, balance: 10 }]);
  const web = httpNodeServer();
  let redis: RunningRedis;
  let proxy: RedisProxy;
  let url = '';

  before(async () => {
    redis = await startRedis({ password: PASSWORD });
  });
  beforeEach(async () => {
    proxy = await startRedisProxy(redis.port);
  });
  afterEach(async () => {
    await helper.unload();
    await web.close();
    await proxy.close();
  });
  after(async () => {
    await redis?.stop();
  });

  /** Every call of node.warn on that node, from now on (and through its close). */
  function warningsOf(id: string): string[] {
    const node = helper.getNode(id) as unknown as { warn: (line: unknown) => void };
    const out: string[] = [];
    const warn = node.warn;
    node.warn = function (this: unknown, line: unknown) {
      out.push(String(line));
      return warn.call(this, line);
    };
    return out;
  }

  /** Sends a webhook again and again, every half second or so (as Vonage retries), until it is answered 200; each answer is kept. */
  async function untilAccepted(send: () => Promise<number>, answers: number[], what: string): Promise<void> {
    await until(
      async () => {
        const status = await send();
        answers.push(status);
        if (status !== 200 && status !== 503) throw new Error(`${what} was answered ${status}`);
        return status === 200;
      },
      { what: `${what} to be answered 200`, everyMs: 500 + Math.floor(Math.random() * 500), timeoutMs: 60_000 },
    );
  }

  it('passes on every SMS and receipt retried until answered 200 exactly once, long SMS whole, and warns once a minute with the figure', async () => {
    await helper.load(
      [showValues, ...packageNodes, web.capture],
      [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost },
        { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'receipt', z: 'tab', type: 'vonage-sms-receipt', url: '/receipt', wires: [['receipts']] },
        { id: 'receipts', z: 'tab', type: 'helper' },
      ],
      { cfg: { apikey: API_KEY, apisecret: SECRET, redisurl: proxy.url(PASSWORD) } },
    );
    url = await web.listen();
    const account = warningsOf('cfg');
    const smsIn = warningsOf('in');
    const state = (helper.getNode('cfg') as unknown as { state: AccountState }).state;
    let slowCommands = 0;
    state.on('slow', () => (slowCommands += 1));
    const got: Array<Record<string, any>> = [];
    const receipts: Array<Record<string, any>> = [];
    helper.getNode('out').on('input', (msg: Record<string, any>) => isMarker(msg) || got.push(msg.payload));
    helper.getNode('receipts').on('input', (msg: Record<string, any>) => isMarker(msg) || receipts.push(msg.payload));
    // Redis is there and quick: the first request connects.
    should(await deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900100', to: OUR_NUMBER, text: 'before' }, { apiKey: API_KEY })[0])).equal(200);

    const singles = Array.from({ length: 19 }, (_, i) => inboundRequests({ msisdn: `4477009002${String(i).padStart(2, '0')}`, to: OUR_NUMBER, text: `single ${i}` }, { apiKey: API_KEY })[0]);
    const longTexts = [0, 1, 2].map((n) => `long SMS number ${n}, in three parts: `.padEnd(60, String(n)));
    const longs = longTexts.map((text, n) => inboundRequests({ msisdn: `44770090030${n}`, to: OUR_NUMBER, text }, { partLength: 20, apiKey: API_KEY, order: n === 1 ? [3, 1, 2] : undefined }));
    const messages = [0, 1, 2].map((n) => messagesInbound({ from: `44770090040${n}`, to: OUR_NUMBER, text: `from the Messages API ${n}` }));
    const sentReceipts = Array.from({ length: 5 }, (_, i) => receiptFor({ to: `4477009005${String(i).padStart(2, '0')}`, from: OUR_NUMBER, apiKey: API_KEY }, { 'message-id': vonageMessageId() }));
    should(longs.every((parts) => parts.length === 3)).be.true();

    proxy.slowFor(2_500, 10_000);
    const answers: number[][] = [];
    const requests: Array<[string, () => Promise<number>]> = [
      ...singles.map((params): [string, () => Promise<number>] => [`SMS ${params.messageId}`, () => deliver(`${url}/sms`, params)]),
      ...longs.flat().map((params): [string, () => Promise<number>] => [`part ${params['concat-part']} of ${params.msisdn}`, () => deliver(`${url}/sms`, params)]),
      ...messages.map((webhook, n): [string, () => Promise<number>] => [`Messages API SMS ${n}`, () => deliverMessages(`${url}/sms`, webhook)]),
      ...sentReceipts.map((params): [string, () => Promise<number>] => [`receipt ${params.messageId}`, () => deliver(`${url}/receipt`, params)]),
    ];
    await Promise.all(
      requests.map(([what, send], i) => {
        answers[i] = [];
        return untilAccepted(send, answers[i], what);
      }),
    );
    await drained('in', 'out');
    await drained('receipt', 'receipts');

    // Redis was slow for real: each request's first answer was a 503 (its commands timed out), and it was retried.
    should(answers.map((a) => a[0])).matchEach(503);
    should(answers.every((a) => a.slice(-1)[0] === 200)).be.true();

    // Each SMS once: the single ones, the long ones whole, the Messages API's.
    const count = (pick: (p: Record<string, any>) => boolean) => got.filter(pick).length;
    for (const params of singles) should(count((p) => p.messageId === params.messageId)).equal(1, `single SMS ${params.messageId}`);
    for (const [n, text] of longTexts.entries()) {
      const joined = got.filter((p) => p.msisdn === `44770090030${n}`);
      should(joined).have.length(1);
      should(joined[0]).have.properties({ text, complete: true });
      should(joined[0].parts).have.length(3);
    }
    for (const [n] of messages.entries()) should(count((p) => p.text === `from the Messages API ${n}`)).equal(1, `Messages API SMS ${n}`);
    should(got).have.length(1 + singles.length + longs.length + messages.length);
    // Each receipt once.
    for (const params of sentReceipts) should(receipts.filter((p) => p.messageId === params.messageId)).have.length(1);
    should(receipts).have.length(sentReceipts.length);

    // And after: Redis answers at once again, and nothing is taken for a retry that is not one.
    should(await deliver(`${url}/sms`, inboundRequests({ msisdn: '447700900101', to: OUR_NUMBER, text: 'after' }, { apiKey: API_KEY })[0])).equal(200);
    await drained('in', 'out');
    should(count((p) => p.text === 'after')).equal(1);

    // The account's node said it once (many commands were slow), with the figure, where, and no password.
    should(slowCommands).be.above(1);
    const slow = account.filter((line) => /state-slow/.test(line));
    should(slow).have.length(1);
    const said = JSON.parse(slow[0].replace(/^nexmobasic\.warn\.state-slow /, '')) as { where: string; seconds: string; count: number; timeout: number };
    should(said.where).equal(`Redis at 127.0.0.1:${proxy.port}/0`);
    should(Number(said.seconds)).be.aboveOrEqual(1);
    should(said).have.properties({ count: 1, timeout: 2 });
    await helper.unload();
    // Closing says what the minute held back: the slowest command of it, over the timeout, and how many.
    const last = account.filter((line) => /state-slow/.test(line)).slice(-1)[0];
    const closing = JSON.parse(last.replace(/^nexmobasic\.warn\.state-slow /, '')) as { seconds: string; count: number };
    should(Number(closing.seconds)).be.aboveOrEqual(2);
    should(closing.count).be.above(1);
    for (const line of [...account, ...smsIn]) should(line).not.containEql(PASSWORD);
  });
});
