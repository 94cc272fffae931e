/**
 * Issue 21, "a half-answer sends twice": only what provably was not carried out is retried. Each
 * client's outcome for every kind of failed answer, over real HTTP (the loopback API, or a server
 * answering exactly the bytes under test), and the transport's "written or not" for a reset connection.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import should from 'should';
import { LoopbackVonageSmsApi, type Fault } from '../../dev/loopback/vonageSmsApi';
import { freePort } from '../support/ports';
import { ApiConnection } from '../../src/vonage/apiConnection';
import { maybeSent, SmsSendError, transportFailure, type SendOutcome } from '../../src/vonage/client';
import { VonageMessagesClient } from '../../src/vonage/messagesClient';
import { VonageSmsClient } from '../../src/vonage/smsClient';

const API_KEY = 'half0001';
const API_SECRET = 'half-answer-secret-9';
const SMS = { to: '447700900123', from: 'Half', text: 'hello', type: 'text' as const };
const HOST = 'http://127.0.0.1:9';

/** An outcome in a few words: its kind, whether throttled, and whether the error may have been sent. */
function summary(outcome: SendOutcome): string {
  if (outcome.kind === 'sent') return 'sent';
  if (outcome.kind === 'retry') return outcome.throttled ? 'retry throttled' : 'retry';
  return `${outcome.kind} ${maybeSent(outcome.error) ? 'maybe-sent' : 'not-sent'}`;
}

describe('a half-answer (issue 21): what is retried, what is reported as maybe sent', () => {
  describe('transportFailure and maybeSent', () => {
    const failure = (err: object) => transportFailure(err, HOST, 2000, '447700900123');

    it('a connection reset before the request was written was not sent; after, it may have been', () => {
      should(failure({ code: 'ECONNRESET', written: false })).have.properties({ kind: 'connection', mayHaveBeenSent: false });
      should(failure({ code: 'EPIPE', written: false }).message).match(/failed \(EPIPE\) before the SMS to 447700900123 was written; it was not sent/);
      should(failure({ code: 'ECONNRESET', written: true })).have.properties({ kind: 'connection', mayHaveBeenSent: true });
      // Without the mark (another transport), a reset may have been sent.
      should(failure({ code: 'ECONNRESET' })).have.properties({ mayHaveBeenSent: true });
      should(failure({ code: 'ECONNREFUSED', written: false })).have.properties({ mayHaveBeenSent: false });
    });

    it('a timeout before the request was written was not sent; after, it may have been', () => {
      should(failure({ name: 'TimeoutError', written: false })).have.properties({ kind: 'connection', mayHaveBeenSent: false });
      should(failure({ name: 'TimeoutError', written: false }).message).match(/could not be written within 2 s; the SMS to 447700900123 was not sent/);
      should(failure({ name: 'TimeoutError', written: true })).have.properties({ kind: 'timeout', mayHaveBeenSent: true });
    });

    it('maybeSent: true only for an SmsSendError that may have been sent', () => {
      should(maybeSent(new SmsSendError('x', 'http', 'HTTP 502', true))).be.true();
      should(maybeSent(new SmsSendError('x', 'http', 'HTTP 500', false))).be.false();
      should(maybeSent(new Error('the send queue is full'))).be.false();
      should(maybeSent(undefined)).be.false();
    });
  });

  describe('ApiConnection marks whether the request was written', () => {
    it('reset before the request was written: written false, not sent', async () => {
      // A server that resets every connection at once, reading nothing: a body far larger than any
      // socket buffer cannot have been written whole when the reset comes.
      const server = net.createServer((socket) => socket.resetAndDestroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const connection = new ApiConnection(host, 5000);
      try {
        const err = await connection.request('POST', '/sms/json', {}, 'x'.repeat(32 * 1024 * 1024)).catch((e: Error) => e);
        should(err).have.properties({ written: false });
        should(transportFailure(err, host, 5000, '447700900123')).have.properties({ kind: 'connection', mayHaveBeenSent: false });
      } finally {
        connection.close();
        server.close();
      }
    });

    it('reset after the request was written (the server read it all): written true, may have been sent', async () => {
      const server = http.createServer((req) => {
        req.resume();
        req.on('end', () => req.socket.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const connection = new ApiConnection(host, 5000);
      try {
        const err = await connection.request('POST', '/sms/json', {}, '{}').catch((e: Error) => e);
        should(err).have.properties({ code: 'ECONNRESET', written: true });
        should(transportFailure(err, host, 5000, '447700900123')).have.properties({ kind: 'connection', mayHaveBeenSent: true });
      } finally {
        connection.close();
        server.close();
      }
    });

    it('a connection refused: not written, retried', async () => {
      const host = `http://127.0.0.1:${await freePort()}`;
      const client = new VonageSmsClient({ apiKey: API_KEY, apiSecret: API_SECRET, restHost: host, timeoutMs: 2000 });
      const outcome = await client.send(SMS);
      should(summary(outcome)).equal('retry');
      should((outcome as { error: Error }).error.message).match(/ECONNREFUSED.*was not sent/);
      client.close();
    });
  });

  for (const api of ['sms', 'messages'] as const) {
    describe(`the ${api === 'sms' ? 'SMS' : 'Messages'} API's client against the loopback`, () => {
      const loopback = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
      let client: VonageSmsClient | VonageMessagesClient;
      before(async () => {
        const host = await loopback.listen();
        client =
          api === 'sms' ? new VonageSmsClient({ apiKey: API_KEY, apiSecret: API_SECRET, restHost: host, timeoutMs: 2000 }) : new VonageMessagesClient({ apiKey: API_KEY, apiSecret: API_SECRET, host, timeoutMs: 2000 });
      });
      after(async () => {
        client.close();
        await loopback.close();
      });
      afterEach(() => loopback.reset());
      const accepted = () => (api === 'sms' ? loopback.sent : loopback.sentMessages);

      const cases: Array<[string, Fault, string, number]> = [
        ['accepted, then a 502 with an empty body', { kind: 'accepted-then', answer: 'http-502-empty' }, 'maybe-sent maybe-sent', 1],
        ['accepted, then a 504 with an HTML page', { kind: 'accepted-then', answer: 'http-504-html' }, 'maybe-sent maybe-sent', 1],
        ['accepted, then the connection dropped', { kind: 'accepted-then', answer: 'drop' }, 'maybe-sent maybe-sent', 1],
        ["a 500 in Vonage's own JSON", { kind: 'http', code: 500 }, 'retry', 0],
        ["a 503 in Vonage's own JSON", { kind: 'http', code: 503 }, 'retry', 0],
        ['throttled', { kind: 'throttle', waitMs: 10 }, 'retry throttled', 0],
        ['a 401', { kind: 'http', code: 401 }, 'failed not-sent', 0],
        ['dropped before answering, after reading the request', { kind: 'drop' }, 'maybe-sent maybe-sent', 0],
      ];
      if (api === 'sms') {
        cases.push(
          ['status 5, no part accepted', { kind: 'status', status: '5' }, 'retry', 0],
          ['status 10, no part accepted', { kind: 'status', status: '10' }, 'retry', 0],
          ['a long SMS with its last part refused (status 5)', { kind: 'partial', status: '5' }, 'maybe-sent maybe-sent', 1],
        );
      }
      for (const [name, fault, expected, carriedOut] of cases) {
        it(`${name}: ${expected}`, async () => {
          loopback.injectFaults(fault);
          const outcome = await client.send(fault.kind === 'partial' ? { ...SMS, text: 'x'.repeat(200) } : SMS);
          should(summary(outcome)).equal(expected);
          should(accepted()).have.length(carriedOut);
          if (outcome.kind === 'maybe-sent') should(outcome.error.message).match(/may have been sent|may get part of the text/);
        });
      }

      it('a half-answered request is recorded as accepted, exactly like an answered one', async () => {
        loopback.injectFaults({ kind: 'accepted-then', answer: 'http-502-empty' });
        await client.send(SMS);
        await client.send(SMS);
        const [half, whole] = accepted();
        should(half.fault).equal('accepted-then');
        should(whole.fault).be.undefined();
        if (api === 'sms') {
          should(half.outcome).equal('0');
          should(Object.keys(half.response!.messages[0]).sort()).eql(Object.keys(whole.response!.messages[0]).sort());
          should(Number(half.response!.messages[0]['remaining-balance'])).be.above(Number(whole.response!.messages[0]['remaining-balance']));
        } else {
          should(half.outcome).equal('HTTP 202');
          should(half.accepted!.message_uuid).match(/^[0-9a-f-]{36}$/);
        }
      });
    });
  }

  describe("what counts as Vonage's own error body on a 5xx, answered byte for byte", () => {
    let server: http.Server;
    let host = '';
    let answer: { status: number; type?: string; body: string } = { status: 500, body: '' };
    before(async () => {
      server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(answer.status, answer.type ? { 'Content-Type': answer.type } : {}).end(answer.body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    const smsCases: Array<[string, typeof answer, string]> = [
      ["the SMS API's shape, status 5, no part accepted", { status: 500, type: 'application/json', body: '{"message-count":"1","messages":[{"status":"5","error-text":"Internal Error"}]}' }, 'retry'],
      [
        "the SMS API's shape, status 1",
        { status: 503, type: 'application/json', body: '{"message-count":"1","messages":[{"status":"1","error-text":"Throughput Rate Exceeded - please wait [ 20 ] and retry"}]}' },
        'retry throttled',
      ],
      ["the SMS API's shape, status 4", { status: 500, type: 'application/json', body: '{"message-count":"1","messages":[{"status":"4","error-text":"Bad Credentials"}]}' }, 'failed not-sent'],
      ["the SMS API's shape with a part accepted", { status: 500, type: 'application/json', body: '{"message-count":"2","messages":[{"status":"0","message-id":"A"},{"status":"5"}]}' }, 'maybe-sent maybe-sent'],
      ["the account API's error-code JSON", { status: 500, type: 'application/json', body: '{"error-code":"500","error-code-label":"Internal Server Error"}' }, 'retry'],
      ["problem details (not the SMS API's words)", { status: 500, type: 'application/problem+json', body: '{"type":"about:blank","title":"Internal Server Error"}' }, 'maybe-sent maybe-sent'],
      ['an empty 502', { status: 502, body: '' }, 'maybe-sent maybe-sent'],
      ['an HTML 504', { status: 504, type: 'text/html', body: '<html><body>Gateway Time-out</body></html>' }, 'maybe-sent maybe-sent'],
      ['other JSON', { status: 502, type: 'application/json', body: '{"message":"Bad gateway"}' }, 'maybe-sent maybe-sent'],
    ];
    for (const [name, given, expected] of smsCases) {
      it(`SMS API, ${name}: ${expected}`, async () => {
        answer = given;
        const client = new VonageSmsClient({ apiKey: API_KEY, apiSecret: API_SECRET, restHost: host, timeoutMs: 2000 });
        should(summary(await client.send(SMS))).equal(expected);
        client.close();
      });
    }

    const problem = '{"type":"https://developer.vonage.com/api-errors/messages#1030","title":"Internal Error","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}';
    const messagesCases: Array<[string, typeof answer, string]> = [
      ['problem details as application/problem+json', { status: 500, type: 'application/problem+json', body: problem }, 'retry'],
      ['problem details with a charset', { status: 503, type: 'application/problem+json; charset=utf-8', body: problem }, 'retry'],
      ['problem details as plain application/json', { status: 500, type: 'application/json', body: problem }, 'maybe-sent maybe-sent'],
      ['application/problem+json without a title', { status: 500, type: 'application/problem+json', body: '{"type":"https://developer.vonage.com/api-errors"}' }, 'maybe-sent maybe-sent'],
      ['an empty 502', { status: 502, body: '' }, 'maybe-sent maybe-sent'],
      ['an HTML 504', { status: 504, type: 'text/html', body: '<html><body>Gateway Time-out</body></html>' }, 'maybe-sent maybe-sent'],
    ];
    for (const [name, given, expected] of messagesCases) {
      it(`Messages API, ${name}: ${expected}`, async () => {
        answer = given;
        const client = new VonageMessagesClient({ apiKey: API_KEY, apiSecret: API_SECRET, host, timeoutMs: 2000 });
        const outcome = await client.send(SMS);
        should(summary(outcome)).equal(expected);
        if (outcome.kind === 'maybe-sent') should(outcome.error.message).match(/HTTP 50\d .*not in Vonage's own words .*may have been sent: check before sending again/);
        client.close();
      });
    }
  });
});
