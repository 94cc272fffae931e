/** Property-based tests (fast-check) for template rendering, number normalisation and segment counting. */
import fc from 'fast-check';
import { getCountries, getExampleNumber, type CountryCode } from 'libphonenumber-js';
import examples from 'libphonenumber-js/mobile/examples';
import should from 'should';
import { countParts } from '../../dev/loopback/smsParts';
import { countSegments } from '../../src/sms/encoding';
import { normaliseNumber } from '../../src/sms/phoneNumber';
import { SmsTemplate } from '../../src/sms/template';

const noContext = { env: () => undefined, context: async () => undefined };

describe('properties', () => {
  it('a {{msg.…}} tag renders any string value exactly, unescaped, wherever it stands', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string().filter((s) => !/[{}]/.test(s)), async (value, around) => {
        const rendered = await new SmsTemplate(`${around}{{msg.value}}${around}`, 'Text').render({ msg: { value }, ...noContext });
        should(rendered).equal(`${around}${value}${around}`);
      }),
    );
  });

  it('a template without tags renders as itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string().filter((s) => !s.includes('{{')), async (text) => {
        should(await new SmsTemplate(text, 'Text').render({ msg: {}, ...noContext })).equal(text);
      }),
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
      fc.property(fc.array(gsm, { maxLength: 700 }).map((a) => a.join('')), (text) => {
        const length = countSegments(text);
        should(length.encoding).equal('GSM-7');
        should(length.parts).equal(countParts(text, 'text'));
      }),
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
