/**
 * The spend guards at their edges, on the real send queue and the memory ledger, with the Vonage side a
 * fake sender that accepts each SMS (one message a part, each with Vonage's message-price) and a clock the
 * test sets: countries, the per-recipient cap, the daily budgets in parts and in money, their time zone.
 */
import should from 'should';
import { SendQueue } from '../../src/sending/sendQueue';
import { SpendError, SpendGuard, type PriceLookup } from '../../src/sending/spendGuard';
import { MemorySpendLedger } from '../../src/state/memorySpendLedger';
import { spendLimits, dayIn, dayEnds } from '../../src/sms/spendLimits';
import { countryOf } from '../../src/sms/phoneNumber';
import { countSegments } from '../../src/sms/encoding';
import { SmsSendError, type SendOutcome } from '../../src/vonage/client';
import type { SmsRequest } from '../../src/sms/smsRequest';

const HOUR = 3_600_000;
const PRICE = 0.05;

function sms(to = '447700900123', text = 'hi', extra: Partial<SmsRequest> = {}): SmsRequest {
  return { to, from: 'Acme', text, type: 'text', ...extra };
}
const long = (parts: number) => 'x'.repeat(153 * parts);

function setup(fields: Parameters<typeof spendLimits>[0], prices: PriceLookup | undefined = async () => ({ perPart: PRICE, currency: 'EUR' }), fail?: (request: SmsRequest) => SendOutcome | undefined) {
  let now = Date.UTC(2026, 11, 4, 12, 0, 0);
  const sent: SmsRequest[] = [];
  const client = {
    async send(request: SmsRequest): Promise<SendOutcome> {
      const failed = fail?.(request);
      if (failed) return failed;
      sent.push(request);
      const parts = countSegments(request.text).parts;
      const messages = Array.from({ length: parts }, (_, i) => ({ status: '0', to: request.to, 'message-id': `id${sent.length}-${i}`, 'message-price': String(PRICE) }));
      return { kind: 'sent', response: { 'message-count': String(parts), messages }, ids: messages.map((m) => m['message-id']) };
    },
  };
  const guard = new SpendGuard(spendLimits(fields), new MemorySpendLedger(() => now), prices, () => now);
  const queue = new SendQueue(client, { ratePerSecond: 0, perSenderPerSecond: 0, maxQueued: 1000, maxRetries: 1, backoffMs: 1, guard });
  return {
    queue,
    guard,
    sent,
    at: (ms: number) => (now = ms),
    later: (ms: number) => (now += ms),
    send: (request: SmsRequest) =>
      queue.submit(request, 'node').then(
        (result) => ({ ok: true as const, result }),
        (error: Error) => ({ ok: false as const, error }),
      ),
  };
}

describe('spend guards', () => {
  it('reads the settings: countries, budgets, time zone; a typo is an error, never "no limit"', () => {
    should(spendLimits({})).eql({ countries: undefined, dailyParts: undefined, dailySpend: undefined, perRecipient: 20, timeZone: 'UTC' });
    const l = spendLimits({ countries: 'gb, DE;fr', dailyparts: '100', dailyspend: '2.5', perrecipient: '0', budgettz: 'Europe/Berlin' });
    should([...l.countries!]).eql(['GB', 'DE', 'FR']);
    should(l).containDeep({ dailyParts: 100, dailySpend: 2.5, perRecipient: 0, timeZone: 'Europe/Berlin' });
    should(() => spendLimits({ countries: 'GB, UK' })).throw(/"UK" is not an ISO 3166 country code/);
    should(() => spendLimits({ dailyparts: '1O0' })).throw(/Daily parts: "1O0" is not a number/);
    should(() => spendLimits({ dailyspend: '-1' })).throw(/Daily spend/);
    should(() => spendLimits({ budgettz: 'Europe/Nowhere' })).throw(/not an IANA time zone/);
    should(countryOf('447700900123')).equal('GB');
    should(countryOf('4915112345678')).equal('DE');
  });

  it('sends only to the countries allowed, naming the country and the list; opt-out confirmations too', async () => {
    const t = setup({ countries: 'GB, DE', perrecipient: '0' });
    should((await t.send(sms('447700900123'))).ok).be.true();
    should((await t.send(sms('4915112345678'))).ok).be.true();
    const fr = await t.send(sms('33612345678'));
    should(fr.ok).be.false();
    should((fr as { error: Error }).error)
      .be.instanceOf(SpendError)
      .and.match({ limit: 'country', message: /the SMS to 33612345678 was not sent: it goes to FR, and this account sends only to GB, DE/ });
    const reply = await t.send(sms('33612345678', 'Unsubscribed.', { confirmsOptOut: true }));
    should((reply as { error: Error }).error).match({ limit: 'country' });
    should(t.sent.map((r) => r.to)).eql(['447700900123', '4915112345678']);
  });

  it('caps the SMS to one number an hour (20 by default): the 20th goes, the 21st does not, and an hour later it may again', async () => {
    const t = setup({});
    for (let i = 0; i < 20; i += 1) should((await t.send(sms())).ok).be.true();
    const over = await t.send(sms());
    should((over as { error: Error }).error).match({ limit: 'recipient', message: /20 SMS went to this number in the last hour, the account's cap/ });
    // Another number is not capped by this one.
    should((await t.send(sms('447700900124'))).ok).be.true();
    t.later(HOUR + 1);
    should((await t.send(sms())).ok).be.true();
    should(t.sent).have.length(22);
  });

  it('counts the daily parts budget by parts: the last part allowed goes, the first over it does not, and it resets at midnight in its time zone', async () => {
    const t = setup({ dailyparts: '10', perrecipient: '0', budgettz: 'Europe/Berlin' });
    // 22:30 UTC is 23:30 in Berlin: the Berlin day ends in 30 minutes.
    t.at(Date.UTC(2026, 11, 4, 22, 30));
    should((await t.send(sms('447700900123', long(3)))).ok).be.true();
    should((await t.send(sms('447700900123', long(3)))).ok).be.true();
    should((await t.send(sms('447700900123', long(3)))).ok).be.true();
    const over = await t.send(sms('447700900123', long(2)));
    should((over as { error: Error }).error).match({ limit: 'parts', message: /the daily budget of 10 SMS parts is used up \(this SMS has 2\); it resets at midnight Europe\/Berlin \(in 30 min\)/ });
    // The last part allowed.
    const last = await t.send(sms());
    should(last.ok).be.true();
    // The price Vonage charged (message-price), with no currency: none is looked up without a money budget.
    should((last as { result: { spend?: unknown } }).result.spend).eql({ price: PRICE, budgetLeft: { parts: 0 } });
    should((await t.send(sms())).ok).be.false();
    // Midnight in Berlin (23:00 UTC): a new day, a new budget.
    t.at(Date.UTC(2026, 11, 4, 23, 0));
    should((await t.send(sms())).ok).be.true();
    should(dayIn('Europe/Berlin', Date.UTC(2026, 11, 4, 23, 0))).equal('2026-12-05');
    should(new Date(dayEnds('Europe/Berlin', Date.UTC(2026, 11, 4, 12))).toISOString()).equal('2026-12-04T23:00:00.000Z');
  });

  it('gives back what an SMS took when it certainly was not sent, and keeps what one that may have been sent took', async () => {
    let mode: 'refused' | 'maybe' | undefined;
    const t = setup({ dailyparts: '2', perrecipient: '0' }, undefined, () => {
      if (mode === 'refused') return { kind: 'failed', error: new SmsSendError('refused', 'status', 'invalid', false, '3') };
      if (mode === 'maybe') return { kind: 'maybe-sent', error: new SmsSendError('no answer', 'timeout', 'no answer', true) };
      return undefined;
    });
    mode = 'refused';
    should((await t.send(sms())).ok).be.false();
    should((await t.send(sms())).ok).be.false();
    mode = 'maybe';
    should((await t.send(sms())).ok).be.false();
    mode = undefined;
    // Two refusals gave their part back; the maybe-sent one keeps its part: one left.
    should((await t.send(sms())).ok).be.true();
    should((await t.send(sms())) as { error: Error }).match({ error: { limit: 'parts' } });
    should(await t.guard.today()).containDeep({ parts: 2, left: { parts: 0 } });
  });

  it("keeps a daily spend budget with each part's price, corrected by what Vonage charged; refuses rather than guesses when the price is unknown", async () => {
    let down = false;
    const t = setup({ dailyspend: '0.2', dailyparts: '100', perrecipient: '0' }, async (country) => {
      if (down) throw new Error('the Pricing API at http://127.0.0.1:1 answered HTTP 503');
      return { perPart: country === 'DE' ? 0.08 : PRICE, currency: 'EUR' };
    });
    should((await t.send(sms('447700900123'))).ok).be.true(); // 0.05
    should((await t.send(sms('447700900123', long(2)))).ok).be.true(); // 0.10: 0.15 spent
    const over = await t.send(sms('4915112345678')); // 0.08 > 0.05 left
    should((over as { error: Error }).error).match({ limit: 'money', message: /the daily spend budget of 0.2 EUR is used up \(this SMS would cost about 0.08\)/ });
    const fits = await t.send(sms('447700900123')); // 0.05: exactly the budget
    should(fits.ok).be.true();
    should((fits as { result: { spend?: unknown } }).result.spend).eql({ price: PRICE, currency: 'EUR', budgetLeft: { parts: 96, money: 0 } });
    down = true;
    // A price looked up already is kept (an hour here, a day by the lookup): a country not asked yet is unknown.
    const unknown = await t.send(sms('33612345678'));
    should((unknown as { error: Error }).error).match({ limit: 'price', message: /its price is not known \(the Pricing API at .* answered HTTP 503\)/ });
    // The parts budget alone still works without prices.
    const partsOnly = setup({ dailyparts: '1', perrecipient: '0' }, async () => {
      throw new Error('down');
    });
    should((await partsOnly.send(sms())).ok).be.true();
    should((await partsOnly.send(sms())) as { error: Error }).match({ error: { limit: 'parts' } });
  });
});
