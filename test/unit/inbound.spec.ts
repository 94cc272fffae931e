import should from 'should';
import { LongSmsAssembler, type AssembledSms } from '../../src/sms/longSms';
import { RecentIds } from '../../src/sms/recentIds';
import { receivedAt } from '../../src/sms/webhookTime';

const part = (ref: string, n: number, total: number, text: string) => ({
  msisdn: '447700900001', to: '447700900000', messageId: `${ref}-${n}`, text, concat: 'true', 'concat-ref': ref, 'concat-total': String(total), 'concat-part': String(n),
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
    should(out.map((s) => [s.params.text, s.complete, s.missing])).eql([['m1', false, [2]], ['m2', false, [2]]]);
    assembler.flushAll();
    should(out).have.length(5);
    should(assembler.waiting).equal(0);
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
});

describe('receivedAt', () => {
  it("reads Vonage's UTC message-timestamp", () => {
    should(receivedAt('2020-01-01 12:00:00')).equal('2020-01-01T12:00:00.000Z');
    should(receivedAt('not a time')).be.undefined();
    should(receivedAt(undefined)).be.undefined();
  });
});
