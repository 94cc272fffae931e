/**
 * The Shared state setting on nexmobasic, through the real runtime: ${NAME} from the environment,
 * a value that is not a Redis URL, and a Redis that never answers, whose password must not show
 * anywhere. A redis-server of its own, started here.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import type { NexmoBasicNode } from '../../src/account/accountNode';
import { coreNodes, helper, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';

const API_KEY = 'cfgstate';
const API_SECRET = 'cfg-state-secret';
const PASSWORD = 'hunter2-redis-password';

describe(`the Shared state setting (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30_000);
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
  let restHost = '';
  let redis: RunningRedis;

  before(async () => {
    restHost = await api.listen();
    redis = await startRedis({ password: PASSWORD });
  });
  afterEach(async () => {
    await helper.unload();
    api.reset();
    delete process.env.VONAGE_SMS_TEST_REDIS;
  });
  after(async () => {
    await redis.stop();
    await api.close();
  });

  const flow = (config: Record<string, unknown> = {}): FlowNode[] => [
    { id: 'tab', type: 'tab' },
    { id: 'cfg', type: 'nexmobasic', resthost: restHost, timeout: 1, ...config },
    { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'Acme', text: 'Hi', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  function outcome(): Promise<{ sent?: any; caught?: any }> {
    return new Promise((resolve) => {
      helper.getNode('out').once('input', (sent: any) => resolve({ sent }));
      helper.getNode('caught').once('input', (caught: any) => resolve({ caught }));
    });
  }

  it('reads ${NAME} from the environment, as the other credentials', async () => {
    process.env.VONAGE_SMS_TEST_REDIS = redis.url;
    await helper.load([...packageNodes, coreNodes.catch], flow(), { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: '${VONAGE_SMS_TEST_REDIS}' } });
    const state = (helper.getNode('cfg') as unknown as NexmoBasicNode).state;
    should(state).not.be.instanceOf(Error);
    should(state).have.properties({ shared: true, where: `Redis at 127.0.0.1:${redis.port}/0` });
    const result = outcome();
    helper.getNode('send').receive({ payload: 'x' });
    should((await result).sent.payload.messages[0].status).equal('0');
  });

  it('fails each SMS with what to fix when the value is not a Redis URL, and sends nothing', async () => {
    await helper.load([...packageNodes, coreNodes.catch], flow(), { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: 'localhost:6379' } });
    const result = outcome();
    helper.getNode('send').receive({ payload: 'x' });
    const { caught } = await result;
    should(caught.error.message).equal('nexmobasic.errors.bad-redisurl');
    should(api.requests).be.empty();
  });

  it('never shows the Redis password: not in the error of an SMS that waited for it in vain, a status or the log', async () => {
    await helper.load([...packageNodes, coreNodes.catch], flow(), { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: `redis://:${PASSWORD}@127.0.0.1:1/0` } });
    const statuses: unknown[] = [];
    helper.getNode('send').on('call:status', (call: { args: unknown[] }) => statuses.push(call.args[0]));
    const result = outcome();
    helper.getNode('send').receive({ payload: 'x' });
    const { caught } = await result;
    should(caught.error.message).match(/^the shared state \(Redis at 127\.0\.0\.1:1\/0\) is unreachable \(ECONNREFUSED\): the SMS to 447700900123 was not sent/);
    should(api.requests).be.empty();
    should(statuses).containEql({ fill: 'yellow', shape: 'ring', text: 'sendsms.status.state-down' });
    should(JSON.stringify([caught, statuses, helper.log().args])).not.containEql(PASSWORD);
  });
});
