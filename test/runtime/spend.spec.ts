/**
 * The spend limits through the real Node-RED runtime and real HTTP against the loopback (its SMS API with
 * message-price a part, its Pricing API): each limit at its edge from a flow, the money budget with the
 * Pricing API down, every Send SMS of the account told when a budget is spent, a bad setting, and the SMS
 * usage node. (The edges with a set clock and the time zone: test/unit/spendGuard.spec.ts; two processes
 * sharing one budget over Redis: test/instances/spend.spec.ts.)
 */
import should from 'should';
import { coreNodes, exampleFlow, helper, nodeRedVersion, packageNodes, recordStatuses, type FlowNode } from '../support/nodeRed';
import { useLoopbackApi } from '../support/loopback';
import { until } from '../support/waitFor';

const API_KEY = 'spend002';
const API_SECRET = 'Sp3nd-secret-never-seen';

describe(`Spend limits (Node-RED ${nodeRedVersion})`, function () {
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);

  async function load(config: Record<string, unknown>) {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'spend' },
      { id: 'cfg', type: 'nexmobasic', name: 'guarded', resthost: loopback.restHost, timeout: 5, ...config },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: 'Acme', text: '{{msg.payload}}', wires: [['out']] },
      { id: 'other', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: 'Acme', text: 'second node', wires: [[]] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'usage', z: 'tab', type: 'vonage-sms-usage', creds: 'cfg', wires: [['usageOut']] },
      { id: 'usageOut', z: 'tab', type: 'helper' },
    ];
    await helper.load(packageNodes, flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
  }
  afterEach(() => helper.unload());

  /** One SMS through Send SMS: the msg out, or the error done() got. */
  function send(to: string, text = 'hi'): Promise<{ msg?: Record<string, any>; error?: string }> {
    return new Promise((resolve) => {
      const out = helper.getNode('out');
      const onOut = (msg: Record<string, any>) => {
        out.off('input', onOut);
        resolve({ msg });
      };
      out.on('input', onOut);
      helper.getNode('send').once('call:error', (call: { args: unknown[] }) => {
        out.off('input', onOut);
        resolve({ error: String(call.args[0]) });
      });
      helper.getNode('send').receive({ payload: text, to });
    });
  }

  const usage = (): Promise<Record<string, any>> =>
    new Promise((resolve) => {
      helper.getNode('usageOut').once('input', (msg: Record<string, any>) => resolve(msg.payload));
      helper.getNode('usage').receive({ payload: 'now' });
    });

  it('sends to the countries allowed only; caps one number an hour; counts parts to the last one, and says so on every Send SMS', async () => {
    await load({ countries: 'GB', dailyparts: '4', perrecipient: '2' });
    const statuses = recordStatuses('other');
    const fr = await send('33612345678');
    should(fr.error).match(/it goes to FR, and this account sends only to GB/);
    should((await send('447700900001')).msg!.sms).have.properties({ price: 0.0333, budgetLeft: { parts: 3 } });
    should((await send('447700900001')).msg).be.ok();
    should((await send('447700900001')).error).match(/2 SMS went to this number in the last hour, the account's cap/);
    // A 2-part SMS: 2 + 2 = 4, the last parts allowed.
    const long = await send('447700900002', 'x'.repeat(200));
    should(long.msg!.sms).have.properties({ parts: 2, budgetLeft: { parts: 0 } });
    should((await send('447700900003')).error).match(/the daily budget of 4 SMS parts is used up \(this SMS has 1\); it resets at midnight UTC/);
    should(loopback.api.sent.map((r) => r.params.to)).eql(['447700900001', '447700900001', '447700900002']);
    // The other Send SMS of the account, which sent nothing, shows the budget spent too.
    await until(() => statuses.some((s) => s.fill === 'red' && s.text === 'sendsms.status.failed'), { what: "the other node's red status" });
    should(await usage()).containDeep({ parts: 4, left: { parts: 0 }, limits: { countries: ['GB'], dailyParts: 4, dailySpend: null, perRecipient: 2, timeZone: 'UTC' } });
  });

  it("keeps a money budget with the Pricing API's price of each part, corrected by what Vonage charged; refuses when no price can be had", async () => {
    // The loopback's dearest UK network: 0.035 a part, charged 0.0333 (message-price).
    await load({ dailyspend: '0.1', perrecipient: '0' });
    const first = await send('447700900011');
    should(first.msg!.sms).have.properties({ price: 0.0333, currency: 'EUR' });
    should((await send('447700900012')).msg).be.ok();
    // 0.0666 charged, 0.0334 left: an estimate of 0.035 does not fit.
    await until(async () => (await usage()).money === 0.0666, { what: 'the charged price counted' });
    should((await send('447700900013')).error).match(/the daily spend budget of 0.1 EUR is used up \(this SMS would cost about 0.035\)/);
    await helper.unload();
    await load({ dailyspend: '5', perrecipient: '0' });
    loopback.api.pricingDown(true);
    should((await send('447700900014')).error).match(/its price is not known \(.*\), and the account has a daily spend budget of 5/);
    should(loopback.api.sent.map((r) => r.params.to)).eql(['447700900011', '447700900012']);
  });

  it('the example "See what was spent today" reports the day\'s usage a second after the deploy (then every minute)', async () => {
    const example = exampleFlow('See what was spent today', loopback.restHost);
    await helper.load([...packageNodes, coreNodes.comment, coreNodes.inject], example, { '5e4d1c0a9b8e7f05': { apikey: API_KEY, apisecret: API_SECRET } });
    const spent = example.find((node) => node.name === 'Spent today')!.id;
    // Its inject node fires once, a second after the deploy.
    const msg = await new Promise<Record<string, any>>((resolve) => helper.getNode(spent).once('input', resolve));
    should(msg.payload).containDeep({ parts: 0, money: 0, left: {}, limits: { countries: null, dailyParts: null, dailySpend: null, perRecipient: 20, timeZone: 'UTC' } });
    should(msg.payload.day).match(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('fails every SMS, never sending, when a limit is set to what cannot be read', async () => {
    await load({ dailyparts: '1O' });
    should((await send('447700900021')).error).match(/spend limits: Daily parts: "1O" is not a number/);
    should(loopback.api.sent).be.empty();
  });
});
