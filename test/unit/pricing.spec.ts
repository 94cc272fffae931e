/**
 * SmsPricing (src/vonage/pricing.ts) against the loopback's Pricing API over real HTTP: the price of a
 * part, kept a day and bounded, one request for concurrent lookups, and a clear PricingError, never a
 * guess and never the secret, when the API is down, refuses or answers something else.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { MAX_COUNTRIES, PricingError, pricingHost, SmsPricing, type PricingOptions } from '../../src/vonage/pricing';
import { countryOf } from '../../src/sms/phoneNumber';

const API_KEY = 'price001';
const API_SECRET = 'Pr1ce-secret-never-shown';

describe('the Pricing API client', () => {
  const api = new LoopbackVonageSmsApi([
    { apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 },
    { apiKey: 'pounds01', apiSecret: API_SECRET, balance: 10, currency: 'GBP' },
  ]);
  let host = '';
  const made: SmsPricing[] = [];
  before(async () => {
    host = await api.listen();
  });
  after(() => api.close());
  afterEach(() => {
    api.reset();
    for (const pricing of made.splice(0)) pricing.close();
  });

  /** A client with no spacing between requests, unless a test asks for it. */
  function pricing(options: PricingOptions = {}, account: { apiKey?: string; apiSecret?: string; host?: string } = {}): SmsPricing {
    const made1 = new SmsPricing({ apiKey: API_KEY, apiSecret: API_SECRET, host, timeoutMs: 5000, ...account }, { spacingMs: 0, ...options });
    made.push(made1);
    return made1;
  }

  async function rejection(promise: Promise<unknown>): Promise<PricingError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    should(err).be.instanceOf(PricingError);
    should((err as Error).message).not.containEql(API_SECRET);
    return err as PricingError;
  }

  it('answers as the Pricing API reference documents it: every value a string, networks with their codes', async () => {
    const basic = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`;
    const res = await fetch(`${host}/account/get-pricing/outbound/sms?country=DE`, { headers: { Authorization: basic } });
    should(res.status).equal(200);
    const body = (await res.json()) as Record<string, unknown>;
    should(Object.keys(body).sort()).eql(['countryCode', 'countryDisplayName', 'countryName', 'currency', 'defaultPrice', 'dialingPrefix', 'networks']);
    should(body).have.properties({ countryCode: 'DE', countryName: 'Germany', currency: 'EUR', defaultPrice: '0.07500000', dialingPrefix: '49' });
    const networks = body.networks as Array<Record<string, unknown>>;
    should(networks.length).be.above(0);
    for (const network of networks) {
      should(Object.keys(network).sort()).eql(['currency', 'mcc', 'mnc', 'networkCode', 'networkName', 'price', 'type']);
      for (const value of Object.values(network)) should(value).be.a.String();
    }
    // The credentials as query parameters too; a wrong secret or an unknown country as the reference has them.
    const query = await fetch(`${host}/account/get-pricing/outbound/sms?country=gb&api_key=${API_KEY}&api_secret=${API_SECRET}`);
    should(((await query.json()) as { countryCode: string }).countryCode).equal('GB');
    const refused = await fetch(`${host}/account/get-pricing/outbound/sms?country=DE&api_key=${API_KEY}&api_secret=wrong`);
    should(refused.status).equal(401);
    should(await refused.json()).eql({ code: '401', currency: 'EUR', 'error-code-label': 'authentication failed' });
    const unknown = await fetch(`${host}/account/get-pricing/outbound/sms?country=ZZ`, { headers: { Authorization: basic } });
    should(unknown.status).equal(400);
    should(await unknown.json()).eql({ error_title: 'Bad Request', invalid_parameters: { message: 'Is invalid', parameter: 'country' }, type: 'BAD_REQUEST' });
    const missing = await fetch(`${host}/account/get-pricing/outbound/sms`, { headers: { Authorization: basic } });
    should(((await missing.json()) as { invalid_parameters: { message: string } }).invalid_parameters.message).equal('Is required');
    // Kept apart from what was sent.
    should(api.requests).be.empty();
    should(api.pricingRequests).have.length(5);
  });

  it("prices a part at the highest of the country's prices, in the account's currency, and estimates a whole SMS", async () => {
    const client = pricing();
    should(await client.price('de')).eql({ country: 'DE', countryName: 'Germany', currency: 'EUR', perPart: 0.0762 });
    api.setPrice('FR', 0.05, [{ price: 0.04 }, { price: 0.06 }]);
    should((await client.price('FR')).perPart).equal(0.06);
    should(await client.estimate('4915112345678', 2)).eql({ price: 0.1524, currency: 'EUR', country: 'DE', countryName: 'Germany' });
    should((await pricing({}, { apiKey: 'pounds01' }).price('GB')).currency).equal('GBP');
    should(countryOf('447700900123')).equal('GB');
    should(countryOf('+14155550100')).equal('US');
    should(countryOf('800123')).be.undefined();
  });

  it('keeps a price a day, and asks again after it', async () => {
    let now = 1_000_000;
    const client = pricing({ now: () => now });
    await client.price('GB');
    now += 86_400_000 - 1;
    await client.price('GB');
    should(api.pricingRequests).have.length(1);
    now += 1;
    await client.price('GB');
    should(api.pricingRequests).have.length(2);
  });

  it('asks once for lookups of one country made at once', async () => {
    const client = pricing();
    const prices = await Promise.all([1, 2, 3, 4, 5].map(() => client.price('US')));
    should(new Set(prices.map((p) => p.perPart)).size).equal(1);
    should(api.pricingRequests).have.length(1);
  });

  it(`keeps at most ${MAX_COUNTRIES} countries: the oldest goes first`, async () => {
    const client = pricing();
    const codes: string[] = [];
    for (let i = 0; codes.length < MAX_COUNTRIES + 1; i += 1) codes.push(String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
    for (const code of codes) api.setPrice(code, 0.01);
    for (const code of codes) await client.price(code);
    should(api.pricingRequests).have.length(MAX_COUNTRIES + 1);
    await client.price(codes[codes.length - 1]);
    should(api.pricingRequests).have.length(MAX_COUNTRIES + 1);
    await client.price(codes[0]);
    should(api.pricingRequests).have.length(MAX_COUNTRIES + 2);
  });

  it('asks the API at most once a second, as it allows', async () => {
    api.pricingOnePerSecond = true;
    const client = pricing({ spacingMs: 1000 });
    await Promise.all([client.price('GB'), client.price('DE')]);
    const [first, second] = api.pricingRequests;
    should(second.at - first.at).be.aboveOrEqual(990);
    should(api.pricingRequests.map((r) => r.outcome)).eql(['HTTP 200', 'HTTP 200']);
  });

  it('rejects with a clear error when the API is down, and asks again once it is back', async () => {
    const client = pricing();
    api.pricingDown();
    should((await rejection(client.price('DE'))).message).equal(`the price of an SMS to DE is not known: Vonage's Pricing API at ${host} answered HTTP 503`);
    api.pricingDown('drop');
    should((await rejection(client.price('DE'))).message).match(/^the price of an SMS to DE is not known: Vonage's Pricing API at .* could not be reached \(ECONNRESET\)$/);
    api.pricingDown('not-json');
    should((await rejection(client.price('DE'))).message).match(/did not answer with a price for it/);
    api.pricingDown(false);
    should((await client.price('DE')).perPart).equal(0.0762);
    const nowhere = pricing({}, { host: 'http://127.0.0.1:1' });
    should((await rejection(nowhere.price('DE'))).message).match(/could not be reached \(ECONNREFUSED\)$/);
  });

  it('rejects wrong credentials, an unknown country and a bad country code, with what to do', async () => {
    should((await rejection(pricing({}, { apiSecret: 'wrong' }).price('DE'))).message).match(/refused the API key and secret \(HTTP 401\): check them/);
    should((await rejection(pricing().price('ZZ'))).message).match(/has no SMS price for this country \(HTTP 400: Bad Request, country, Is invalid\)/);
    should((await rejection(pricing().price('Germany'))).message).match(/is not a country code/);
    should((await rejection(pricing().estimate('800123', 1))).message).match(/country of 800123 is not known/);
    should(api.pricingRequests).have.length(2);
  });

  it('never takes an answer that is not a price for one: unreadable prices, another country, another currency', async () => {
    let body: unknown;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = pricing({}, { host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const good = { countryCode: 'DE', countryName: 'Germany', currency: 'EUR', defaultPrice: '0.07500000', networks: [] };
      const bad = [
        { ...good, defaultPrice: 'free' },
        { ...good, defaultPrice: '-1' },
        { ...good, countryCode: 'FR' },
        { ...good, currency: 12 },
        { ...good, defaultPrice: undefined },
        { ...good, networks: [{ price: '0.08', currency: 'USD' }] },
        { ...good, networks: [{ price: null, currency: 'EUR' }] },
        { ...good, networks: 'none' },
        [good],
        'DE 0.075',
      ];
      for (const answer of bad) {
        body = answer;
        should((await rejection(client.price('DE'))).message).match(/did not answer with a price for it/);
      }
      body = good;
      should((await client.price('DE')).perPart).equal(0.075);
    } finally {
      server.close();
    }
  });

  it("asks the account API's host for an account of the Messages API on Vonage's hosts, else its own host", () => {
    should(pricingHost('messages', 'https://api-eu.nexmo.com/')).equal('https://rest.nexmo.com');
    should(pricingHost('messages', 'http://127.0.0.1:8080')).equal('http://127.0.0.1:8080');
    should(pricingHost('sms', 'https://rest.nexmo.com/')).equal('https://rest.nexmo.com');
  });
});
