import should from 'should';
import { checkFrom, checkTo, describeText, formatPrice, literalTo, replaceLookAlikes, showsWhole } from '../../src/editor/smsEditor';
import { countSegments } from '../../src/sms/encoding';

describe('the editor panel helpers', () => {
  it('count a fixed text exactly as the runtime does', () => {
    for (const text of ['Hello', 'a'.repeat(161), 'It’s “fine”', '😀'.repeat(36)]) {
      const summary = describeText(text, false);
      should(summary.templated).be.false();
      should({ ...summary, templated: undefined, replaceable: undefined }).eql({ ...countSegments(text), templated: undefined, replaceable: undefined });
    }
  });

  it('count only the fixed part of a templated text, and say so', () => {
    should(describeText('Hi {{msg.payload.name}}, {{{msg.x}}}!', false)).have.properties({ templated: true, characters: 6, encoding: 'GSM-7' });
  });

  it('name the look-alikes that can be replaced, and replace them with GSM-7 text', () => {
    const summary = describeText('It’s “fine” — really… 😀', false);
    should(summary.unicodeCharacters).containDeep(['’', '“', '”', '—', '…', '😀']);
    should(summary.replaceable.sort()).eql(['’', '“', '”', '—', '…'].sort());
    const replaced = replaceLookAlikes('It’s “fine” — really…');
    should(replaced).equal('It\'s "fine" - really...');
    should(describeText(replaced, false).encoding).equal('GSM-7');
  });

  it('hint at a fixed To or From that would fail, and say nothing of templates', () => {
    should(checkTo('+44 7700 900123', '')).equal('');
    should(checkTo('07700 900123', 'GB')).equal('');
    should(checkTo('07700 900123', '')).match(/is in national format/);
    should(checkTo('{{msg.payload.msisdn}}', '')).equal('');
    should(checkFrom('AcmeInc', '')).equal('');
    should(checkFrom('ABCDEFGHIJKL', '')).match(/too long for a sender ID/);
  });

  it('check a list typed in To entry by entry, as the runtime cuts it', () => {
    should(checkTo('447700900001, +44 7700 900002;\n447700900003', '')).equal('');
    should(checkTo('447700900001, {{flow.deputy}}', '')).equal('');
    should(checkTo('447700900001, call me', '')).match(/^To "call me" is not a phone number/);
    should(checkTo('{{msg.payload.msisdn', '')).match(/^To: the template does not parse/);
  });
});

describe('errors and warnings in the debug sidebar', () => {
  it("shows whole the text errors and warnings of this package's nodes only", () => {
    should(showsWhole({ level: 20, type: 'sendsms' }, 'x'.repeat(300))).be.true();
    should(showsWhole({ level: 30, type: 'vonage-sms-in' }, 'a warning')).be.true();
    should(showsWhole({ level: 20, type: 'function' }, "someone else's error")).be.false();
    should(showsWhole({ type: 'sendsms' }, 'a msg from a debug node')).be.false();
    should(showsWhole({ level: 20, type: 'sendsms' }, { name: 'Error' })).be.false();
    should(showsWhole(undefined, 'x')).be.false();
  });
  it('price only one fixed number typed in To: not a template, a list, or a number that would fail', () => {
    should(literalTo(' +49 151 12345678 ', '')).equal('+49 151 12345678');
    should(literalTo('07700 900123', 'GB')).equal('07700 900123');
    should(literalTo('07700 900123', '')).equal('');
    should(literalTo('{{msg.payload.msisdn}}', '')).equal('');
    should(literalTo('447700900001, 447700900002', '')).equal('');
    should(literalTo('+44 (0) 7700 900 123 456 789', '')).equal('');
    should(literalTo('', '')).equal('');
  });

  it("show the price of every part in the currency's symbol, or its code", () => {
    should(formatPrice(0.075, 2, 'EUR')).equal('€0.15');
    should(formatPrice(0.0333, 2, 'GBP')).equal('£0.067');
    should(formatPrice(0.0079, 1, 'USD')).equal('$0.0079');
    should(formatPrice(0.0762, 3, 'CHF')).equal('CHF 0.23');
    should(formatPrice(1.5, 2, 'EUR')).equal('€3.00');
  });
});
