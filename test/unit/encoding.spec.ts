import should from 'should';
import { countParts } from '../../dev/loopback/smsParts';
import { countSegments } from '../../src/sms/encoding';

describe('countSegments', () => {
  const cases: Array<[string, string, 'GSM-7' | 'UCS-2', number]> = [
    ['Hello World', 'short GSM-7', 'GSM-7', 1],
    ['a'.repeat(160), '160 GSM-7 characters', 'GSM-7', 1],
    ['a'.repeat(161), '161 GSM-7 characters', 'GSM-7', 2],
    ['a'.repeat(306), '306 GSM-7 characters (2 × 153)', 'GSM-7', 2],
    ['a'.repeat(307), '307 GSM-7 characters', 'GSM-7', 3],
    ['€'.repeat(80), '80 extension characters (2 septets each)', 'GSM-7', 1],
    ['€'.repeat(81), '81 extension characters', 'GSM-7', 2],
    ['a'.repeat(152) + '€' + 'a'.repeat(10), 'an extension character not split across parts', 'GSM-7', 2],
    ['ç', 'ç, which GSM-7 lacks', 'UCS-2', 1],
    ['“curly”', 'curly quotes', 'UCS-2', 1],
    ['я'.repeat(70), '70 UCS-2 characters', 'UCS-2', 1],
    ['я'.repeat(71), '71 UCS-2 characters', 'UCS-2', 2],
    ['😀'.repeat(35), '35 emoji (2 UCS-2 units each)', 'UCS-2', 1],
    ['😀'.repeat(36), '36 emoji', 'UCS-2', 2],
  ];
  for (const [text, name, encoding, parts] of cases) {
    it(`${name}: ${encoding}, ${parts} part(s), as the loopback API counts`, () => {
      const length = countSegments(text);
      should(length.encoding).equal(encoding);
      should(length.type).equal(encoding === 'GSM-7' ? 'text' : 'unicode');
      should(length.parts).equal(parts);
      should(countParts(text, length.type)).equal(parts);
    });
  }

  it('names the characters that force Unicode, once each', () => {
    should(countSegments('“Hi” — ok “x”').unicodeCharacters.sort()).eql(['—', '“', '”'].sort());
  });

  it('forces Unicode when asked', () => {
    should(countSegments('Hello', true)).have.properties({ type: 'unicode', encoding: 'UCS-2', parts: 1 });
    should(countSegments('a'.repeat(71), true).parts).equal(2);
  });

  it('counts characters as a person does', () => {
    should(countSegments('😀ab').characters).equal(3);
  });
});
