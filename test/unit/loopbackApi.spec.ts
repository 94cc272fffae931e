/**
 * The loopback Vonage SMS API answers as API-NOTES.md and sms-openapi.yml say Vonage does,
 * checked over real HTTP with plain fetch: the tests of the nodes are only as good as this.
 */
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';

// sms-openapi.yml, components.schemas.Message and ErrorMessage.
const MESSAGE_FIELDS = ['to', 'message-id', 'status', 'remaining-balance', 'message-price', 'network', 'client-ref', 'account-ref'];
const ERROR_FIELDS = ['status', 'error-text'];

describe('the loopback Vonage SMS API', () => {
  const api = new LoopbackVonageSmsApi([
    { apiKey: 'abcd1234', apiSecret: 'secret-1', balance: 1 },
    { apiKey: 'demo0001', apiSecret: 'secret-2', balance: 1, testNumbers: ['447700900001'] },
  ]);
  let url: string;
  before(async () => {
    url = `${await api.listen()}/sms/json`;
  });
  after(() => api.close());
  afterEach(() => api.reset());

  const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  async function postJson(body: Record<string, unknown>, auth = basic('abcd1234', 'secret-1')) {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify(body) });
    return { res, body: (await res.json()) as { 'message-count': string; messages: Record<string, string>[] } };
  }
  async function postForm(params: Record<string, string>) {
    const res = await fetch(url, { method: 'POST', body: new URLSearchParams(params) });
    return { res, body: (await res.json()) as { 'message-count': string; messages: Record<string, string>[] } };
  }

  it('accepts an SMS as the SDK sends it (JSON, Basic auth) and answers with string values, one entry a part', async () => {
    const { res, body } = await postJson({ to: '447700900123', from: 'AcmeInc', text: 'x'.repeat(200), type: 'text' });
    should(res.status).equal(200);
    should(res.headers.get('content-type')).equal('application/json');
    should(body['message-count']).equal('2');
    should(body.messages).have.length(2);
    for (const message of body.messages) {
      should(Object.keys(message).every((k) => MESSAGE_FIELDS.includes(k))).be.true();
      should(Object.values(message).every((v) => typeof v === 'string')).be.true();
      should(message).have.properties({ status: '0', to: '447700900123' });
    }
    should(body.messages[0]['message-id']).not.equal(body.messages[1]['message-id']);
    should(Number(body.messages[1]['remaining-balance'])).be.approximately(1 - 2 * 0.0333, 1e-9);
    should(api.requests[0]).have.properties({ auth: 'basic', apiKey: 'abcd1234', contentType: 'application/json', outcome: '0' });
  });

  it('accepts the documented form body with api_key and api_secret, and counts Unicode parts', async () => {
    const { body } = await postForm({ api_key: 'abcd1234', api_secret: 'secret-1', to: '447700900123', from: '447700900000', text: 'я'.repeat(71), type: 'unicode' });
    should(body['message-count']).equal('2');
    should(api.requests[0]).have.properties({ auth: 'body', contentType: 'application/x-www-form-urlencoded' });
  });

  const refusals: Array<[string, Record<string, string>, string, string]> = [
    ['missing credentials', { to: '447700900123', from: 'A', text: 't' }, '2', 'Missing api_key'],
    ['a wrong secret', { api_key: 'abcd1234', api_secret: 'nope', to: '447700900123', from: 'A', text: 't' }, '4', 'Bad Credentials'],
    ['no to', { api_key: 'abcd1234', api_secret: 'secret-1', from: 'A', text: 't' }, '2', 'Missing to param'],
    ['no from', { api_key: 'abcd1234', api_secret: 'secret-1', to: '447700900123', text: 't' }, '2', 'Missing from param'],
    ['no text', { api_key: 'abcd1234', api_secret: 'secret-1', to: '447700900123', from: 'A' }, '2', 'Missing text param'],
    ['a to with a +', { api_key: 'abcd1234', api_secret: 'secret-1', to: '+447700900123', from: 'A', text: 't' }, '3', 'Invalid to param'],
    ['a 12-character sender ID', { api_key: 'abcd1234', api_secret: 'secret-1', to: '447700900123', from: 'ABCDEFGHIJKL', text: 't' }, '3', 'Invalid from param'],
    ['3,201 characters', { api_key: 'abcd1234', api_secret: 'secret-1', to: '447700900123', from: 'A', text: 'x'.repeat(3201) }, '12', 'Message too long'],
    ['a demo account sending to a number not on its list', { api_key: 'demo0001', api_secret: 'secret-2', to: '447700900123', from: 'A', text: 't' }, '29', 'Non White-listed Destination - rejected'],
  ];
  for (const [name, params, status, errorText] of refusals) {
    it(`answers HTTP 200 with status ${status} for ${name}`, async () => {
      const { res, body } = await postForm(params);
      should(res.status).equal(200);
      should(res.headers.get('content-type')).equal('application/json');
      should(body).eql({ 'message-count': '1', messages: [{ status, 'error-text': errorText }] });
      should(Object.keys(body.messages[0]).every((k) => ERROR_FIELDS.includes(k))).be.true();
    });
  }

  it('injects faults in order, one a request: throttling as status 1 with the wait, HTTP errors, slow answers, dropped connections', async () => {
    api.injectFaults({ kind: 'throttle', waitMs: 978 }, { kind: 'http', code: 503 }, { kind: 'slow', delayMs: 200 }, { kind: 'drop' });
    const sms = { to: '447700900123', from: 'A', text: 't' };
    const throttled = await postJson(sms);
    should(throttled.body.messages[0]).eql({ status: '1', 'error-text': 'Throughput Rate Exceeded - please wait [ 978 ] and retry' });
    should((await fetch(url, { method: 'POST' })).status).equal(503);
    const started = Date.now();
    should((await postJson(sms)).body.messages[0].status).equal('0');
    should(Date.now() - started).be.aboveOrEqual(190);
    await should(fetch(url, { method: 'POST' })).be.rejectedWith(/fetch failed/);
    should((await postJson(sms)).body.messages[0].status).equal('0');
    should(api.requests.map((r) => r.outcome)).eql(['fault throttle', 'fault http', '0', 'fault drop', '0']);
    should(api.requests.map((r) => r.fault)).eql(['throttle', 'http', 'slow', 'drop', undefined]);
  });
});
