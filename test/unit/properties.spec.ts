/** Property-based tests (fast-check) for template rendering, number normalisation and segment counting. */
import fc from 'fast-check';
import { getCountries, getExampleNumber, type CountryCode } from 'libphonenumber-js';
import examples from 'libphonenumber-js/mobile/examples';
import should from 'should';
import { SegmentedMessage } from 'sms-segments-calculator';
import { countParts } from '../../dev/loopback/smsParts';
import { countSegments } from '../../src/sms/encoding';
import { normaliseNumber } from '../../src/sms/phoneNumber';
import { SmsTemplate } from '../../src/sms/template';

const noContext = { env: () => undefined, context: async () => undefined };

describe('properties', () => {
  it('a {{msg.…}} tag renders any string value exactly, unescaped, wherever it stands', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.string().filter((s) => !/[{}]/.test(s)),
        async (value, around) => {
          const rendered = await new SmsTemplate(`${around}{{msg.value}}${around}`, 'Text').render({ msg: { value }, ...noContext });
          should(rendered).equal(`${around}${value}${around}`);
        },
      ),
    );
  });

  it('a template without tags renders as itself', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string().filter((s) => !s.includes('{{')),
        async (text) => {
          should(await new SmsTemplate(text, 'Text').render({ msg: {}, ...noContext })).equal(text);
        },
      ),
    );
  });

  const countries = getCountries().filter((c) => getExampleNumber(c, examples));
  const separator = fc.constantFrom(' ', '-', '.', '', ' ');

  it('any mobile number, written internationally with any separators, normalises to its E.164 digits', () => {
    fc.assert(
      fc.property(fc.constantFrom(...countries), fc.constantFrom('+', '00'), separator, (country, prefix, sep) => {
        const example = getExampleNumber(country as CountryCode, examples)!;
        const digits = example.number.slice(1);
        const written = prefix + example.countryCallingCode + sep + example.nationalNumber.replace(/(\d{3})(?=\d)/g, `$1${sep}`);
        should(normaliseNumber(written, 'To')).equal(digits);
        should(normaliseNumber(example.formatInternational(), 'To')).equal(digits);
      }),
    );
  });

  it('any mobile number written in national format normalises, given its country', () => {
    fc.assert(
      fc.property(fc.constantFrom(...countries), (country) => {
        const example = getExampleNumber(country as CountryCode, examples)!;
        should(normaliseNumber(example.formatNational(), 'To', country)).equal(example.number.slice(1));
      }),
    );
  });

  it('a number with a letter in it is always refused', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+?[0-9 ]{0,8}[A-Za-z][0-9 A-Za-z]{0,8}$/), (written) => {
        should(() => normaliseNumber(written, 'To', 'GB')).throw(/not a phone number/);
      }),
    );
  });

  const gsm = fc.constantFrom(...'@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà^{}\\[~]|€'.split(''));

  it('GSM-7 texts count as the independent loopback counter does, and stay GSM-7', () => {
    fc.assert(
      fc.property(
        fc.array(gsm, { maxLength: 700 }).map((a) => a.join('')),
        (text) => {
          const length = countSegments(text);
          should(length.encoding).equal('GSM-7');
          should(length.parts).equal(countParts(text, 'text'));
        },
      ),
    );
  });

  // The GSM-7 fast path against the library it stands in for, with the hard cases mixed in: the extension
  // table at part boundaries, a carriage return (a grapheme with a line feed), and the odd Unicode character.
  // GSM-7 texts of so many septets, around every boundary (one SMS: 160; parts: 153 each), with extension
  // characters (two septets) put where they would straddle a part's end; a third of them also get one
  // character that sends them to the library: a carriage return (with a line feed, one grapheme) or a Unicode one.
  const basic = fc.constantFrom(...'@£$¥èéùìòÇ\nØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà'.split(''));
  const extension = fc.constantFrom(...'\f^{}\\[~]|€'.split(''));
  const hard = fc.constantFrom('\r', '\r\n', 'é', 'ç', '😀', 'e\u0301', '’', 'Ω', '\u00a0');
  const where = fc.oneof(fc.constantFrom(150, 151, 152, 153, 154, 303, 304, 305, 306, 307, 457, 458, 459), fc.nat(480));
  const nearBoundaries = fc
    .tuple(fc.constantFrom(67, 70, 134, 153, 160, 201, 306, 459), fc.integer({ min: -3, max: 3 }))
    .chain(([boundary, offset]) => fc.tuple(fc.array(basic, { minLength: boundary + offset, maxLength: boundary + offset }), fc.array(fc.tuple(where, extension), { maxLength: 4 }), fc.nat(2), fc.nat(), hard))
    .map(([chars, extensions, addHard, at, ch]) => {
      // Each extension character takes the place of two basic ones: the septets stay as drawn.
      for (const [position, ext] of extensions) if (chars.length > 1) chars.splice(Math.min(position, chars.length - 2), 2, ext);
      if (addHard === 0) chars.splice(at % (chars.length + 1), 0, ch);
      return chars.join('');
    });

  it('counts exactly as sms-segments-calculator does, fast path or not, around every part boundary', () => {
    fc.assert(
      fc.property(nearBoundaries, fc.boolean(), (text, forceUnicode) => {
        const message = new SegmentedMessage(text, forceUnicode ? 'UCS-2' : 'auto');
        const length = countSegments(text, forceUnicode);
        should(length.parts).equal(message.segmentsCount);
        should(length.encoding).equal(message.encodingName === 'GSM-7' ? 'GSM-7' : 'UCS-2');
        should(length.characters).equal([...text].length);
        should(length.unicodeCharacters).eql([...new Set(message.getNonGsmCharacters() as string[])]);
      }),
      { numRuns: 500 },
    );
  });

  it('any text counts as the loopback counter does for the encoding chosen, and adding a character never lowers the parts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }), (text, more) => {
        const length = countSegments(text);
        should(length.parts).equal(countParts(text, length.type));
        const longer = countSegments(text + more);
        if (longer.encoding === length.encoding) should(longer.parts).be.aboveOrEqual(length.parts);
      }),
    );
  });
});
