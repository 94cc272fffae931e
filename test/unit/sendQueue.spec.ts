/**
 * The send queue's own rules, with the Vonage side played by a fake sender that answers as
 * VonageSmsClient does (SmsSendError kinds); the queue itself is the real one.
 */
import { mock } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { until } from '../support/waitFor';
import should from 'should';
import { SendQueue, type SendQueueOptions } from '../../src/sending/sendQueue';
import { SmsSendError, type SmsApiResponse } from '../../src/vonage/client';
import { smsApiOutcome, throttleWaitMs } from '../../src/vonage/smsClient';
import type { SmsRequest } from '../../src/sms/smsRequest';

const OK: SmsApiResponse = { 'message-count': '1', messages: [{ status: '0', to: '447700900123', 'message-id': 'X' }] };
const sms = (to = '447700900123', from = 'Acme'): SmsRequest => ({ to, from, text: 'hi', type: 'text' });
const statusError = (status: string, errorText = 'x', accepted = 0) =>
  new SmsSendError(`status ${status}`, 'status', `status ${status}`, accepted > 0, status, {
    'message-count': String(accepted + 1),
    messages: [...Array.from({ length: accepted }, () => ({ status: '0' })), { status, 'error-text': errorText }],
  });

/** A sender that answers with the scripted outcomes in turn, then OK, recording when it was called. */
function scripted(outcomes: Array<Error | 'ok'> = []) {
  const calls: Array<{ at: number; request: SmsRequest }> = [];
  return {
    calls,
    send(request: SmsRequest) {
      calls.push({ at: Date.now(), request });
      const outcome = outcomes.shift() ?? 'ok';
      return smsApiOutcome(outcome === 'ok' ? Promise.resolve(OK) : Promise.reject(outcome));
    },
  };
}

const options = (o: Partial<SendQueueOptions> = {}): SendQueueOptions => ({ ratePerSecond: 0, perSenderPerSecond: 0, maxQueued: 100, maxRetries: 3, backoffMs: 10, ...o });

/**
 * Settles `promise` on Node's fake clock (setTimeout and Date), letting time pass a millisecond at a time
 * once all else is done: the waits the queue asks for are measured exactly, however busy the machine.
 */
async function onFakeClock<T>(start: () => Promise<T>): Promise<T> {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let settled = false;
    const result = start().finally(() => (settled = true));
    result.catch(() => undefined);
    while (!settled) {
      // Whatever runs without the clock (promises, the fake sender) runs first.
      await new Promise((resolve) => setImmediate(resolve));
      if (!settled) mock.timers.tick(1);
    }
    return await result;
  } finally {
    mock.timers.reset();
  }
}

describe('SendQueue', () => {
  it('reads the wait Vonage names when it throttles', () => {
    should(throttleWaitMs('Throughput Rate Exceeded - please wait [ 978 ] and retry')).equal(978);
    should(throttleWaitMs('Throttled')).be.undefined();
  });

  it('retries a throttled request after the wait Vonage names', async () => {
    const sender = scripted([statusError('1', 'please wait [ 120 ] and retry')]);
    const result = await new SendQueue(sender, options()).submit(sms(), 'n1');
    should(result.attempts).equal(2);
    should(sender.calls[1].at - sender.calls[0].at).be.aboveOrEqual(115);
  });

  it("retries status 5 and 10, HTTP 5xx in Vonage's own words and refused connections with growing backoff, up to the limit", async () => {
    const refused = new SmsSendError('refused', 'connection', 'ECONNREFUSED', false);
    // Vonage's own JSON error: certainly not sent (issue 21).
    const http503 = new SmsSendError('503', 'http', 'HTTP 503', false, '503');
    const sender = scripted([statusError('5'), statusError('10'), http503, refused]);
    await should(onFakeClock(() => new SendQueue(sender, options({ maxRetries: 3, backoffMs: 20 })).submit(sms(), 'n1'))).be.rejectedWith(refused);
    should(sender.calls).have.length(4);
    const gaps = sender.calls.slice(1).map((c, i) => c.at - sender.calls[i].at);
    // 20, 40, 80 ms with ±50% jitter, on the fake clock: no room needed for a busy machine.
    should(gaps[0]).be.within(8, 150);
    should(gaps[2]).be.aboveOrEqual(38);

    const recovering = scripted([refused, statusError('5')]);
    should((await new SendQueue(recovering, options()).submit(sms(), 'n1')).attempts).equal(3);
  });

  it('never retries what may have reached Vonage, a half-accepted long SMS, or a permanent status', async () => {
    for (const error of [
      new SmsSendError('timeout', 'timeout', 'timeout', true),
      new SmsSendError('lost', 'connection', 'UND_ERR_SOCKET', true),
      // A gateway's 502 (an empty body, not Vonage's words): the API may have carried it out (issue 21).
      new SmsSendError('502', 'http', 'HTTP 502: may have been sent', true, '502'),
      statusError('1', 'please wait [ 10 ] and retry', 1),
      statusError('29'),
      statusError('4'),
    ]) {
      const sender = scripted([error]);
      await should(new SendQueue(sender, options()).submit(sms(), 'n1')).be.rejectedWith(error);
      should(sender.calls).have.length(1);
    }
  });

  it('keeps to the account rate and to the per-sender rate', async () => {
    const sender = scripted();
    // 10/s: one at a time every ~101.5 ms (faster rates go in batches of a tenth); 5/s per sender.
    const queue = new SendQueue(sender, options({ ratePerSecond: 10, perSenderPerSecond: 5 }));
    const started = Date.now();
    await Promise.all([...Array.from({ length: 6 }, () => queue.submit(sms('447700900001', 'Slow'), 'n1')), ...Array.from({ length: 6 }, () => queue.submit(sms('447700900002', 'Other'), 'n1'))]);
    const gaps = (from: string) =>
      sender.calls
        .filter((c) => c.request.from === from)
        .map((c) => c.at)
        .map((at, i, all) => (i ? at - all[i - 1] : 200));
    should(Math.min(...gaps('Slow'))).be.aboveOrEqual(195);
    const all = sender.calls.map((c) => c.at).sort((a, b) => a - b);
    should(Math.min(...all.slice(1).map((at, i) => at - all[i]))).be.aboveOrEqual(95);
    should(Date.now() - started).be.aboveOrEqual(1000);
  });

  it('never starts more than the rate in any rolling second, in batches of a tenth of it', async () => {
    const sender = scripted();
    const queue = new SendQueue(sender, options({ ratePerSecond: 40 }));
    await Promise.all(Array.from({ length: 60 }, () => queue.submit(sms(), 'n1')));
    const at = sender.calls.map((c) => c.at).sort((a, b) => a - b);
    for (const t of at) should(at.filter((u) => u >= t && u < t + 1000).length).be.belowOrEqual(40);
    // 60 at 40/s: the last starts no sooner than a second after the first. (How close to it is the bench's rate fidelity.)
    should(at[59] - at[0]).be.aboveOrEqual(1000);
  });

  it('counts a request in the rolling second when it arrives: the first ones, slowed by opening a connection, hold back those a second later', async () => {
    // The first batch (4 at 40/s) spends 140 ms opening its connections before it is sent, and answers at
    // 150 ms; later requests arrive as they start and answer in a millisecond. Vonage counts arrivals.
    const arrivals: number[] = [];
    let calls = 0;
    const sender = {
      send: () =>
        smsApiOutcome(
          (async () => {
            const opening = calls < 4;
            calls += 1;
            arrivals.push(performance.now() + (opening ? 140 : 0));
            await new Promise((resolve) => setTimeout(resolve, opening ? 150 : 1));
            return OK;
          })(),
        ),
    };
    const queue = new SendQueue(sender, options({ ratePerSecond: 40 }));
    await Promise.all(Array.from({ length: 60 }, () => queue.submit(sms(), 'n1')));
    const at = [...arrivals].sort((a, b) => a - b);
    for (const t of at) should(at.filter((u) => u >= t && u < t + 1000).length).be.belowOrEqual(40);
  });

  it('keeps nothing of the SMS it failed on close: their requests and receivers can be collected', async () => {
    // The garbage collector, made callable in this test alone.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // A sender that keeps nothing but a count (scripted() records each request).
    let sends = 0;
    const queue = new SendQueue({ send: () => ((sends += 1), smsApiOutcome(Promise.resolve(OK))) }, options({ ratePerSecond: 1 / 60, maxQueued: 1000 }));
    const refs: Array<WeakRef<object>> = [];
    let failed = 0;
    (() => {
      for (let i = 0; i < 200; i += 1) {
        const request = sms();
        const receiver = { outcome: (err: Error | undefined) => void (err && (failed += 1)) };
        refs.push(new WeakRef(request), new WeakRef(receiver));
        queue.enqueue(request, 'n1', receiver);
      }
    })();
    await until(() => sends === 1, { what: 'the first SMS to be sent' });
    await queue.close('stopped');
    await until(() => failed >= 199, { what: () => `each waiting SMS told it failed (${failed} so far)` });
    should(failed).equal(199); // the first was sent at once
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    should(refs.filter((ref) => ref.deref() !== undefined).length).equal(0);
  });

  it('refuses at once beyond its size, and reports its depth', async () => {
    const queue = new SendQueue(scripted(), options({ ratePerSecond: 10, maxQueued: 2 }));
    const depths: number[] = [];
    queue.on('depth', (d: number) => depths.push(d));
    // The first starts at once; two wait; a fourth finds no place.
    const accepted = [queue.submit(sms(), 'n1'), queue.submit(sms(), 'n1'), queue.submit(sms(), 'n1')];
    await should(queue.submit(sms(), 'n1')).be.rejectedWith(/^the send queue is full \(2 SMS waiting\)/, { reason: 'full' });
    await Promise.all(accepted);
    should(Math.max(...depths)).equal(3);
    should(depths[depths.length - 1]).equal(0);
  });

  it("cancels one owner's waiting SMS, and on close fails all waiting ones after those being sent finish", async () => {
    let release: (() => void) | undefined;
    const slow = { send: () => smsApiOutcome(new Promise<SmsApiResponse>((resolve) => (release = () => resolve(OK)))) };
    const queue = new SendQueue(slow, options({ ratePerSecond: 1 }));
    const first = queue.submit(sms(), 'n1');
    const mine = [queue.submit(sms(), 'n1'), queue.submit(sms(), 'n1')];
    const theirs = queue.submit(sms(), 'n2');
    // Once the first is being sent, the others wait.
    await until(() => release, { what: 'the first SMS to be sent' });
    should(queue.cancel('n1', 'stopped')).equal(2);
    for (const p of mine) await should(p).be.rejectedWith('stopped', { reason: 'closed' });
    const closing = queue.close('closed');
    await should(theirs).be.rejectedWith('closed', { reason: 'closed' });
    release!();
    should((await first).attempts).equal(1);
    should(await closing).equal(1);
    await should(queue.submit(sms(), 'n1')).be.rejectedWith(/^the send queue is closed/, { reason: 'closed' });
  });

  it('sends in the order submitted, through its backlog, and tells each owner once', async () => {
    const sender = scripted();
    const queue = new SendQueue(sender, options({ ratePerSecond: 400, maxQueued: 500 }));
    const told: Array<[number, Error | undefined]> = [];
    for (let i = 0; i < 300; i += 1) {
      const owner = i % 3 === 0 ? 'leaving' : 'staying';
      queue.enqueue(sms(`4477009${String(i).padStart(5, '0')}`), owner, { outcome: (err) => told.push([i, err]) });
    }
    should(queue.depth).equal(300);
    // One owner stops once sending has begun, while most still wait in the backlog: its SMS are cancelled
    // there, the others go on.
    await until(() => sender.calls.length > 0, { what: 'the first SMS to be sent' });
    const cancelled = queue.cancel('leaving', 'stopped');
    should(cancelled).be.within(50, 100);
    await until(() => told.length >= 300, { what: () => `each owner told of each SMS (${told.length} of 300 so far)` });
    should(told).have.length(300);
    should(new Set(told.map(([i]) => i)).size).equal(300);
    const sentTo = sender.calls.map((c) => Number(c.request.to.slice(-5)));
    should(sentTo).eql([...sentTo].sort((a, b) => a - b));
    should(sentTo.length + cancelled).equal(300);
    should(told.filter(([, err]) => err).map(([i]) => i % 3)).matchEach(0);
    should(queue.depth).equal(0);
  });
});
