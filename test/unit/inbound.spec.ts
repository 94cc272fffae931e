import should from 'should';
import { LongSmsAssembler, partRanges, type AssembledSms } from '../../src/sms/longSms';
import { RecentIds } from '../../src/sms/recentIds';
import { receivedAt } from '../../src/sms/webhookTime';

const part = (ref: string, n: number, total: number, text: string) => ({
  msisdn: '447700900001',
  to: '447700900000',
  messageId: `${ref}-${n}`,
  text,
  concat: 'true',
  'concat-ref': ref,
  'concat-total': String(total),
  'concat-part': String(n),
});

describe('LongSmsAssembler', () => {
  it('joins parts in part order, ignores a repeated part, and emits once', () => {
    const out: AssembledSms[] = [];
    const assembler = new LongSmsAssembler(10_000, (sms) => out.push(sms));
    assembler.add(part('7', 2, 3, 'b'));
    assembler.add(part('7', 2, 3, 'b'));
    assembler.add(part('7', 3, 3, 'c'));
    should(out).be.empty();
    assembler.add(part('7', 1, 3, 'a'));
    should(out).have.length(1);
    should(out[0]).have.properties({ complete: true, missing: [] });
    should(out[0].params.text).equal('abc');
    should(assembler.waiting).equal(0);
  });

  it('keeps memory bounded: past maxPending, the oldest waiting message goes on incomplete', () => {
    const out: AssembledSms[] = [];
    const assembler = new LongSmsAssembler(10_000, (sms) => out.push(sms), 3);
    for (let ref = 1; ref <= 5; ref += 1) assembler.add(part(String(ref), 1, 2, `m${ref}`));
    should(assembler.waiting).equal(3);
    should(out.map((s) => [s.params.text, s.complete, s.missing])).eql([
      ['m1', false, [2]],
      ['m2', false, [2]],
    ]);
    assembler.flushAll();
    should(out).have.length(5);
    should(assembler.waiting).equal(0);
  });

  it('keeps memory bounded in bytes too: past maxChars held, the oldest waiting message goes on incomplete', () => {
    const out: AssembledSms[] = [];
    const assembler = new LongSmsAssembler(10_000, (sms) => out.push(sms), 1000, 10_000);
    for (let ref = 1; ref <= 20; ref += 1) assembler.add(part(String(ref), 1, 255, 'x'.repeat(1600)));
    should(assembler.held).be.belowOrEqual(10_000);
    should(assembler.waiting).be.belowOrEqual(6);
    should(out.length + assembler.waiting).equal(20);
    should(out[0]).have.properties({ complete: false });
    should(out[0].missing).have.length(254);
    assembler.flushAll();
    should(assembler.held).equal(0);
  });

  it('takes a part that names another total for another message, and refuses a part outside 1..total or over 255', () => {
    const out: AssembledSms[] = [];
    const assembler = new LongSmsAssembler(10_000, (sms) => out.push(sms));
    assembler.add(part('9', 1, 2, 'a'));
    assembler.add(part('9', 2, 3, 'b'));
    should(assembler.waiting).equal(2);
    for (const [n, total] of [
      [0, 2],
      [3, 2],
      [1.5, 2],
      [NaN, 2],
      [1, 256],
      [1, Infinity],
    ]) {
      should(() => assembler.add(part('9', n, total, 'c'))).throw(RangeError);
    }
    should(assembler.waiting).equal(2);
  });
});

describe('partRanges', () => {
  it('writes part numbers as ranges', () => {
    should(partRanges([2, 3, 4, 7, 9, 10])).equal('2-4, 7, 9-10');
    should(partRanges([5])).equal('5');
    should(partRanges(Array.from({ length: 254 }, (_, i) => i + 2))).equal('2-255');
  });
});

describe('RecentIds', () => {
  it('says an id was seen within the window, and forgets it after', () => {
    const ids = new RecentIds(1000);
    should(ids.seen('A', 0)).be.false();
    should(ids.seen('A', 999)).be.true();
    should(ids.seen('A', 2100)).be.false();
  });

  it('never holds more than its bound', () => {
    const ids = new RecentIds(60_000, 100);
    for (let i = 0; i < 1000; i += 1) ids.seen(`id${i}`, i);
    should(ids.size).be.belowOrEqual(100);
    should(ids.seen('id999', 1000)).be.true();
  });

  it('keeps a fixed-size hash of each id, however long the id', () => {
    const ids = new RecentIds(60_000);
    should(ids.seen('A'.repeat(60_000), 0)).be.false();
    should(ids.seen('A'.repeat(60_000), 1)).be.true();
    should(ids.seen(`${'A'.repeat(59_999)}B`, 2)).be.false();
    const kept = [...(ids as unknown as { seenAt: Map<string, number> }).seenAt.keys()];
    should(kept.map((key) => key.length)).eql([22, 22]);
  });
});

describe('receivedAt', () => {
  it("reads Vonage's UTC message-timestamp", () => {
    should(receivedAt('2020-01-01 12:00:00')).equal('2020-01-01T12:00:00.000Z');
    should(receivedAt('not a time')).be.undefined();
    should(receivedAt(undefined)).be.undefined();
  });

  it('takes an impossible date for no date, rather than rolling it over', () => {
    should(receivedAt('2021-02-30 10:00:00')).be.undefined();
    should(receivedAt('2021-02-28 24:00:00')).be.undefined();
    should(receivedAt('2021-13-01 10:00:00')).be.undefined();
    should(receivedAt('2024-02-29 23:59:59')).equal('2024-02-29T23:59:59.000Z');
  });
});
