/**
 * Prices through the real Node-RED runtime and real HTTP against the loopback's Pricing API: the config
 * node's admin endpoint the Send SMS dialog asks (`GET nexmobasic/:id/price?to=`), hostile input refused,
 * no secret ever in an answer, and a dry run's `price` and `currency`.
 */
import should from 'should';
import { helper, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { useLoopbackApi } from '../support/loopback';

const API_KEY = 'cost0001';
const API_SECRET = 'Sh0uld-never-be-seen-9';

describe(`Prices (Node-RED ${nodeRedVersion})`, function () {
  const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);

  function flow(config: Record<string, unknown> = {}, send: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'prices' },
      { id: 'cfg', type: 'nexmobasic', name: '', resthost: loopback.restHost, country: 'GB', timeout: 5, ...config },
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '+49 151 12345678', fr: 'AcmeInc', text: 'Hello', dryrun: true, wires: [['out']], ...send },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
  }

  async function load(config: Record<string, unknown> = {}, send: Record<string, unknown> = {}, credentials: Record<string, string> = { apikey: API_KEY, apisecret: API_SECRET }) {
    await helper.load(packageNodes, flow(config, send), { cfg: credentials });
  }

  const price = (query: Record<string, unknown>, id = 'cfg') =>
    helper
      .request()
      .get(`/nexmobasic/${encodeURIComponent(id)}/price`)
      .query(query);

  function dryRun(msg: Record<string, unknown> = { payload: 'x' }): Promise<Record<string, any>> {
    return new Promise((resolve) => {
      helper.getNode('out').once('input', resolve);
      helper.getNode('send').receive(msg);
    });
  }

  describe('the price endpoint for the Send SMS dialog', () => {
    it('answers the price of a part to a number, in international or (with the default country) national form', async () => {
      await load();
      const de = await price({ to: '+49 151 12345678' }).expect(200);
      should(de.body).eql({ country: 'DE', countryName: 'Germany', currency: 'EUR', perPart: 0.0762 });
      const gb = await price({ to: '07700 900123' }).expect(200);
      should(gb.body).have.properties({ country: 'GB', countryName: 'United Kingdom' });
      // Kept: asked of Vonage once a country, however often the dialog asks.
      await price({ to: '+49 151 99999999' }).expect(200);
      should(loopback.api.pricingRequests.map((r) => r.params.country)).eql(['DE', 'GB']);
      should(JSON.stringify([de.body, gb.body])).not.containEql(API_SECRET);
    });

    it('refuses what is not one phone number of at most 20 characters, and a node that is not deployed', async () => {
      await load();
      for (const query of [{}, { to: '' }, { to: '+49 151 1234567890123' }, { to: 'call me' }, { to: ['447700900001', '447700900002'] }, { to: '<script>' }]) {
        const res = await price(query).expect(400);
        should(res.body.error).equal('nexmobasic.errors.price-bad-number');
      }
      should((await price({ to: '+44 12' }).expect(400)).body.error).match(/^To "\+44 12" is not a (possible|valid)/);
      should((await price({ to: '+800 1234 5678' }).expect(400)).body.error).equal('nexmobasic.errors.price-no-country');
      should((await price({ to: '+4915112345678' }, 'nosuch').expect(404)).body.error).equal('nexmobasic.errors.price-not-deployed');
      should((await price({ to: '+4915112345678' }, 'send').expect(404)).body.error).equal('nexmobasic.errors.price-not-deployed');
      should((await price({ to: '+4915112345678' }, 'x'.repeat(65)).expect(404)).body.error).equal('nexmobasic.errors.price-not-deployed');
      should(loopback.api.pricingRequests).be.empty();
    });

    it('says why when the price is not known: the Pricing API down or refusing, no credentials; never the secret', async () => {
      await load();
      loopback.api.pricingDown();
      const down = await price({ to: '+4915112345678' }).expect(502);
      should(down.body.error).equal(`the price of an SMS to DE is not known: Vonage's Pricing API at ${loopback.restHost} answered HTTP 503`);
      loopback.api.pricingDown(false);
      await helper.unload();
      await load({}, {}, { apikey: API_KEY, apisecret: 'wrong-secret-also-hidden' });
      const refused = await price({ to: '+4915112345678' }).expect(502);
      should(refused.body.error).match(/refused the API key and secret \(HTTP 401\)/);
      should(JSON.stringify(refused.body)).not.containEql('wrong-secret-also-hidden');
      await helper.unload();
      await load({}, {}, { apikey: API_KEY });
      should((await price({ to: '+4915112345678' }).expect(502)).body.error).equal('nexmobasic.errors.no-apisecret');
    });

    it('is registered for those who may read the config node (nexmobasic.read)', () => {
      const routes: Array<{ method: string; path: string; permission: unknown }> = [];
      const route = (method: string) => (path: string, permission: unknown) => routes.push({ method, path, permission });
      const RED = { httpAdmin: { get: route('get'), post: route('post') }, auth: { needsPermission: (p: string) => p }, nodes: { registerType: () => undefined }, _: (k: string) => k };
      (packageNodes[0] as (red: unknown) => void)(RED);
      should(routes).containEql({ method: 'get', path: '/nexmobasic/:id/price', permission: 'nexmobasic.read' });
    });
  });

  describe("a dry run's price", () => {
    it("is the whole SMS's: every part at the highest price for its country, in the account's currency", async () => {
      await load({}, { text: 'x'.repeat(200) });
      const msg = await dryRun();
      should(msg.payload).have.properties({ dryRun: true, to: '4915112345678', parts: 2, price: 0.1524, currency: 'EUR' });
      should(loopback.api.requests).be.empty();
    });

    it('is there for each recipient of a list, and for the Messages API too', async () => {
      await load({ api: 'messages' }, { to: '447700900123, +1 415 555 0100' });
      const payloads: Array<Record<string, unknown>> = [];
      const both = new Promise<void>((resolve) =>
        helper.getNode('out').on('input', (msg: { payload: Record<string, unknown> }) => {
          if (payloads.push(msg.payload) === 2) resolve();
        }),
      );
      helper.getNode('send').receive({ payload: 'x' });
      await both;
      const byTo = Object.fromEntries(payloads.map((p) => [p.to, p]));
      should(byTo['447700900123']).have.properties({ price: 0.035, currency: 'EUR' });
      should(byTo['14155550100']).have.properties({ price: 0.0081, currency: 'EUR' });
    });

    it('is left out, with no error, when the Pricing API is down', async () => {
      await load();
      loopback.api.pricingDown('drop');
      const msg = await dryRun();
      should(msg.payload).have.properties({ dryRun: true, to: '4915112345678' });
      should(msg.payload).not.have.properties(['price', 'currency']);
      should(loopback.api.pricingRequests).have.length(1);
    });
  });
});
