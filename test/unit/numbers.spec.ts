import should from 'should';
import { InvalidNumberError, normaliseNumber } from '../../src/sms/phoneNumber';
import { normaliseSender } from '../../src/sms/sender';

describe('normaliseNumber', () => {
  const valid: Array<[string, string | undefined, string]> = [
    ['+44 7700 900123', undefined, '447700900123'],
    ['0044 7700 900123', undefined, '447700900123'],
    ['447700900123', undefined, '447700900123'],
    ['+1 (212) 555-1212', undefined, '12125551212'],
    ['(212) 555-1212', 'US', '12125551212'],
    ['212.555.1212', 'us', '12125551212'],
    ['07000 900 123', 'GB', '447000900123'],
    ['07700 900123', 'GB', '447700900123'],
    ['+33 6 12 34 56 78', 'GB', '33612345678'],
    ['  +49 151 23456789 ', undefined, '4915123456789'],
    // Digits in international form (as Vonage writes msisdn) reach that number whatever the default
    // country; national numbers as people write them still work.
    ['4915112345678', 'DE', '4915112345678'],
    ['015112345678', 'DE', '4915112345678'],
    ['447700900123', 'AT', '447700900123'],
    ['2025550123', 'US', '12025550123'],
    ['12025550123', 'US', '12025550123'],
    ['6281234567890', 'ID', '6281234567890'],
    ['081234567890', 'ID', '6281234567890'],
    ['38344123456', 'XK', '38344123456'],
    ['447911123456', 'DE', '447911123456'],
    ['33612345678', 'DE', '33612345678'],
    ['15112345678', 'DE', '4915112345678'],
    ['3912345678', 'IT', '393912345678'],
    ['393912345678', 'IT', '393912345678'],
    ['612345678', 'ES', '34612345678'],
    ['3211234567', 'CO', '573211234567'],
    ['89161234567', 'RU', '79161234567'],
    ['79161234567', 'RU', '79161234567'],
  ];
  for (const [input, country, expected] of valid) {
    it(`${JSON.stringify(input)}${country ? ` in ${country}` : ''} → ${expected}`, () => {
      should(normaliseNumber(input, 'To', country)).equal(expected);
    });
  }

  const invalid: Array<[string, string | undefined, RegExp]> = [
    ['', undefined, /^To is empty$/],
    ['   ', undefined, /^To is empty$/],
    ['1-800-FLOWERS', 'US', /^To "1-800-FLOWERS" is not a phone number: only digits/],
    ['+44+7700', undefined, /a \+ may only stand at the start/],
    ['07700 900123', undefined, /is in national format: write it with its country code/],
    ['+44 12', undefined, /^To "\+44 12" is not a possible number for \+44/],
    ['+999 123456789', undefined, /is not a valid phone number: the country code is not known/],
    ['+44 7700 9001 2345 6789', undefined, /is not a possible number/],
  ];
  for (const [input, country, message] of invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      should(() => normaliseNumber(input, 'To', country)).throw(InvalidNumberError, { message });
    });
  }
});

describe('normaliseSender', () => {
  it('takes a number like To, and an alphanumeric sender ID as it is', () => {
    should(normaliseSender('+44 7700 900000')).equal('447700900000');
    should(normaliseSender('AcmeInc')).equal('AcmeInc');
    should(normaliseSender('Acme Store 1')).equal('Acme Store 1');
  });

  it('refuses a sender ID over 11 characters (spaces not counted) or with odd characters', () => {
    should(() => normaliseSender('ABCDEFGHIJKL')).throw(InvalidNumberError, { message: /^From "ABCDEFGHIJKL" is too long for a sender ID: 12 characters, at most 11$/ });
    should(() => normaliseSender('Acme<Inc>')).throw(InvalidNumberError, { message: /is not a valid sender ID/ });
    should(() => normaliseSender('')).throw(InvalidNumberError, { message: /^From is empty$/ });
  });
});

describe('normaliseNumber, digits as Vonage writes them, whatever the default country', () => {
  // Every country's example mobile number (libphonenumber-js's), as E.164 digits without `+`.
  const { getCountries, getExampleNumber } = require('libphonenumber-js/max') as typeof import('libphonenumber-js/max');
  const examples = require('libphonenumber-js/mobile/examples');
  const mobiles = getCountries().flatMap((country) => {
    const example = getExampleNumber(country, examples);
    return example ? [{ country, digits: example.number.slice(1), national: example.formatNational() }] : [];
  });

  it('reach their number with the default country of any country that writes a trunk prefix at home (DE, GB, AT, ID, XK, FR)', () => {
    for (const defaultCountry of ['DE', 'GB', 'AT', 'ID', 'XK', 'FR']) {
      const wrong = mobiles.filter(({ digits }) => normaliseNumber(digits, 'To', defaultCountry) !== digits).map(({ country }) => country);
      should(wrong).eql([], defaultCountry);
    }
  });

  it('reach their number under their own country, written nationally or as digits', () => {
    for (const { country, digits, national } of mobiles) {
      should(normaliseNumber(national, 'To', country)).equal(digits, `${country} ${national}`);
      should(normaliseNumber(digits, 'To', country)).equal(digits, `${country} ${digits}`);
    }
  });

  it('are misread under fewer than 1% of (default country, number) pairs: only where the digits are also a valid mobile number at home', () => {
    let misread = 0;
    for (const defaultCountry of getCountries()) {
      for (const { digits } of mobiles) {
        let read: string;
        try {
          read = normaliseNumber(digits, 'To', defaultCountry);
        } catch {
          read = '';
        }
        if (read !== digits) misread += 1;
      }
    }
    should(misread / (getCountries().length * mobiles.length)).be.below(0.01);
  });
});
