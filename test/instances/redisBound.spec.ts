/**
 * What a flood of forged webhooks leaves in Redis: SMS in remembers each webhook's id to drop Vonage's
 * retries, and with a Shared state those records live in Redis. 300,000 unsigned requests with unique
 * ids, through the real runtime and real HTTP, must leave Redis's used_memory less than 32 MiB above
 * where it was (the records are bounded an account and kind), every request answered, and a real STOP
 * after them recorded. Redis runs with `noeviction`: filling it would refuse every webhook.
 */
import http from 'node:http';
import should from 'should';
import Redis from 'ioredis';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { startRedis, type RunningRedis } from '../../dev/redisServer';
import { useLoopbackApi } from '../support/loopback';
import { helper, httpNodeServer, nextMessage, nodeRedVersion, packageNodes, SHARED_STATE } from '../support/nodeRed';

const API_KEY = 'flood001';
const API_SECRET = 'flood-secret-31';
const FLOOD = 300_000;
const CONCURRENCY = 64;

// The runtime suite's Redis pass has a redis-server of its own for every account: this file starts its own.
if (!SHARED_STATE)
  describe(`de-duplication records in Redis under a flood of unique ids (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(600_000);
    const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
    const web = httpNodeServer();
    let redis: RunningRedis;
    let client: Redis;

    before(async () => {
      redis = await startRedis();
      client = new Redis(redis.url);
    });
    after(async () => {
      client?.disconnect();
      await web.close();
      await redis?.stop();
    });

    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);

    it(`${FLOOD.toLocaleString('en')} unsigned requests with unique ids leave Redis less than 32 MiB fuller, all answered, and a STOP after them is recorded`, async () => {
      await helper.load(
        [...packageNodes, web.capture],
        [
          { id: 'tab', type: 'tab', label: 'flood' },
          { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost },
          // Nothing wired to its output: the flood costs the flow nothing.
          { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [[]] },
          { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload}}', fr: 'Acme', text: 'Hi', wires: [['out']] },
          { id: 'out', z: 'tab', type: 'helper' },
          { id: 'list', z: 'tab', type: 'vonage-optout', creds: 'cfg', wires: [['list-out']] },
          { id: 'list-out', z: 'tab', type: 'helper' },
        ],
        { cfg: { apikey: API_KEY, apisecret: API_SECRET, redisurl: redis.url } },
      );
      const base = new URL(await web.listen());
      // The first request connects the account to Redis: measured from there.
      const [template] = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Hello' }, { apiKey: API_KEY });
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const post = (params: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const body = JSON.stringify(params);
          const req = http.request({ host: base.hostname, port: base.port, path: '/sms', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(body);
        });
      should(await post({ ...template, messageId: 'WARM-UP-0000001' })).equal(200);
      const before = await usedMemory();

      const statuses = new Map<number, number>();
      let next = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < FLOOD) {
            const n = (next += 1);
            // Ids as long as Vonage's, each new.
            const status = await post({ ...template, msisdn: String(447700000000 + (n % 1_000_000)), messageId: `F${n.toString(16).toUpperCase().padStart(15, '0')}` });
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      agent.destroy();
      const grownMiB = ((await usedMemory()) - before) / 2 ** 20;
      const kept = await client.zcard(`vonage-sms:{${API_KEY}}:seen:sms-in`);
      console.log(`      ${FLOOD} requests in ${((Date.now() - started) / 1000).toFixed(0)} s; Redis used_memory +${grownMiB.toFixed(1)} MiB, ${kept} ids kept`);
      should([...statuses]).eql([[200, FLOOD]]);
      should(grownMiB).be.below(32);
      should(kept).equal(100_000);

      // A real STOP after the flood is recorded, and Send SMS then refuses the number.
      const [stop] = inboundRequests({ msisdn: '447700900999', to: '447700900000', text: 'STOP' }, { apiKey: API_KEY });
      should(await post(stop)).equal(200);
      const checked = nextMessage('list-out');
      helper.getNode('list').receive({ topic: 'check', payload: '447700900999' });
      should((await checked).payload).have.properties({ optedOut: true, source: 'keyword' });
    });
  });
