/**
 * Warnings a flood could repeat, through the real runtime over real HTTP: refused (unsigned)
 * requests and a flapping Redis (a real redis-server, killed and started again) log a line at once,
 * then at most one a minute with the count; the status still changes on every event. Here RED._
 * writes its values after the key, so that counts can be read.
 */
import crypto from 'node:crypto';
import should from 'should';
import { deliver, inboundRequests, sign } from '../../dev/loopback/webhooks';
import { useLoopbackApi } from '../support/loopback';
import { helper, httpNodeServer, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { until } from '../support/waitFor';

const API_KEY = 'flood001';
const SECRET = 'flood-api-secret';
const SIG_SECRET = 'flood-signature-secret-5';
const SMS = { msisdn: '447700900001', to: '447700900000', text: 'Hello' };

/** RED._ that shows its values: `key {"count":3}`. */
const showValues = ((RED: { _: unknown }) => {
  RED._ = (key: string, values?: object) => (values ? `${key} ${JSON.stringify(values)}` : key);
}) as (RED: unknown) => void;

describe(`warnings under a flood (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(60_000);
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: SECRET, balance: 10 }]);
  const web = httpNodeServer();
  let url = '';
  afterEach(() => web.close());

  async function load(flow: FlowNode[], credentials: Record<string, unknown>): Promise<void> {
    await helper.load([showValues, ...packageNodes, web.capture], flow, credentials);
    url = await web.listen();
  }

  /** Every call of node.warn and node.status on that node, from now on (and through its close), as they are made. */
  function calls(id: string): { warnings: string[]; statuses: Array<{ text?: string }> } {
    const node = helper.getNode(id) as unknown as Record<'warn' | 'status', (arg: unknown) => void>;
    const out = { warnings: [] as string[], statuses: [] as Array<{ text?: string }> };
    const { warn, status } = node;
    node.warn = function (this: unknown, line: unknown) {
      out.warnings.push(String(line));
      return warn.call(this, line);
    };
    node.status = function (this: unknown, value: unknown) {
      out.statuses.push(value as { text?: string });
      return status.call(this, value);
    };
    return out;
  }

  it('500 unsigned requests to a signed SMS in: 401 each, a status with the count each time, at most 2 warnings (then the count at close)', async () => {
    await load(
      [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, sigmethod: 'md5hash' },
        { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', creds: 'cfg', wires: [[]] },
      ],
      { cfg: { apikey: API_KEY, apisecret: SECRET, sigsecret: SIG_SECRET } },
    );
    const seen = calls('in');
    const [plain] = inboundRequests(SMS);
    let next = 0;
    const answers: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 500) {
          next += 1;
          answers.push(await deliver(`${url}/sms`, plain));
        }
      }),
    );
    should(answers).have.length(500);
    should(answers).matchEach(401);
    should(seen.statuses.filter((s) => s.text?.startsWith('vonage-sms-in.status.rejected'))).have.length(500);
    should(seen.statuses.slice(-1)[0].text).equal('vonage-sms-in.status.rejected {"count":500}');
    // A signed one still gets through.
    should(await deliver(`${url}/sms`, sign(plain, { secret: SIG_SECRET, method: 'md5hash' }))).equal(200);
    should(seen.warnings.length).be.belowOrEqual(2);
    should(seen.warnings[0]).match(/^vonage-sms-in\.warn\.unsigned /);
    await helper.unload();
    // Closing logs what was held back, with how many it stands for.
    should(seen.warnings.slice(-1)[0]).match(/^vonage-sms-in\.warn\.unsigned .*"count":500.* \(499 times in the last minute\)$/);
  });

  it('200 WhatsApp status webhooks to SMS receipt: answered 200, not passed on, and one warning (then the count at close)', async () => {
    await load(
      [
        { id: 'tab', type: 'tab' },
        { id: 'receipt', z: 'tab', type: 'vonage-sms-receipt', url: '/receipt', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      {},
    );
    const seen = calls('receipt');
    const got: unknown[] = [];
    helper.getNode('out').on('input', (msg: unknown) => got.push(msg));
    for (let i = 0; i < 200; i += 1) {
      const body = { message_uuid: crypto.randomUUID(), to: '447700900123', from: '447700900000', timestamp: new Date().toISOString(), status: 'read', channel: 'whatsapp' };
      const response = await fetch(`${url}/receipt`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      should(response.status).equal(200);
    }
    should(got).be.empty();
    should(seen.warnings).eql(['vonage-sms-receipt.warn.other-channel {"channel":"whatsapp","count":1}']);
    await helper.unload();
    // The catalogue's line carries the running total itself.
    should(seen.warnings.slice(-1)[0]).equal('vonage-sms-receipt.warn.other-channel {"channel":"whatsapp","count":200}');
  });

  describe('with a Redis that keeps failing', () => {
    let redis: RunningRedis;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.stop();
    });

    it('four outages in a row: 503 during each, and at most a couple of outage warnings from SMS in and from its account', async () => {
      await load(
        [
          { id: 'tab', type: 'tab' },
          { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost },
          { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [[]] },
        ],
        { cfg: { apikey: API_KEY, apisecret: SECRET, redisurl: redis.url } },
      );
      const smsIn = calls('in');
      const account = calls('cfg');
      const once = async () => deliver(`${url}/sms`, inboundRequests(SMS, { apiKey: API_KEY })[0]);
      /** Delivers an SMS again and again until it is answered with `status` (Redis's client reconnects in its own time). */
      const answered = async (status: number) => {
        let last = 0;
        await until(async () => (last = await once()) === status, { what: () => `an answer ${status} (the last was ${last})`, everyMs: 50 });
      };
      await answered(200);
      for (let outage = 0; outage < 4; outage += 1) {
        await redis.kill();
        await answered(503);
        await redis.restart();
        await answered(200);
      }
      const down = (s: { text?: string }) => s.text === 'vonage-sms-in.status.state-down';
      // The status said each outage (and each time the client lost Redis while it came back): down, then cleared.
      const outages = smsIn.statuses.filter((s, i) => down(s) && !down(smsIn.statuses[i - 1] ?? {})).length;
      should(outages).be.aboveOrEqual(4);
      const outageWarnings = (w: string[]) => w.filter((line) => /state-down/.test(line));
      should(outageWarnings(smsIn.warnings).length).be.within(1, 2);
      should(outageWarnings(account.warnings).length).be.within(1, 2);
      await helper.unload();
      should(outageWarnings(smsIn.warnings).slice(-1)[0]).match(/^vonage-sms-in\.warn\.state-down .* \(\d+ times in the last minute\)$/);
      should(outageWarnings(account.warnings).slice(-1)[0]).match(/^nexmobasic\.warn\.state-down .* \(\d+ times in the last minute\)$/);
      console.log(`      ${outages} outages seen by SMS in's status; warnings: ${outageWarnings(smsIn.warnings).length} from SMS in, ${outageWarnings(account.warnings).length} from its account`);
    });
  });
});
