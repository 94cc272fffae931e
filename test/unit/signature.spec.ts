import should from 'should';
import { signatureFor, stringToSign, verifySignature, SIGNATURE_METHODS } from '../../src/vonage/smsSignature';

// API-NOTES §4: Vonage's own SDK test vectors, recomputed independently.
const PARAMS = { 'message-timestamp': '2013-11-21 15:27:30', messageId: '020000001B0FE827', msisdn: '14843472194', text: 'Test again', timestamp: '1385047698', to: '13239877404', type: 'text' };
const SECRET = 'my_secret_key_for_testing';
const VECTORS = {
  md5hash: 'd2e7b1dc968737c5998ad624e02f90b7',
  md5: 'DDEBD46008C2D4E93CCE578A332A52D5',
  sha1: '27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A',
  sha256: 'DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330',
  sha512: 'E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82',
} as const;

describe('webhook signatures', () => {
  it('builds the documented string to sign', () => {
    should(stringToSign({ ...PARAMS, sig: 'x' })).equal('&message-timestamp=2013-11-21 15:27:30&messageId=020000001B0FE827&msisdn=14843472194&text=Test again&timestamp=1385047698&to=13239877404&type=text');
    should(stringToSign({ b: 'x&y=z', a: '1' })).equal('&a=1&b=x_y_z');
  });

  for (const method of SIGNATURE_METHODS) {
    it(`matches Vonage's test vector for ${method}, in either case`, () => {
      should(signatureFor(PARAMS, SECRET, method)).equal(VECTORS[method]);
      const at = Number(PARAMS.timestamp);
      should(verifySignature({ ...PARAMS, sig: VECTORS[method] }, SECRET, method, 300, at)).eql({ ok: true });
      should(verifySignature({ ...PARAMS, sig: VECTORS[method].toLowerCase() }, SECRET, method, 300, at)).eql({ ok: true });
      should(verifySignature({ ...PARAMS, text: 'Test Again', sig: VECTORS[method] }, SECRET, method, 300, at)).eql({ ok: false, reason: 'mismatch' });
      should(verifySignature({ ...PARAMS, sig: VECTORS[method] }, 'other secret', method, 300, at)).eql({ ok: false, reason: 'mismatch' });
    });
  }

  it('refuses unsigned and stale requests, and signatures of the wrong length', () => {
    const at = Number(PARAMS.timestamp);
    should(verifySignature(PARAMS, SECRET, 'sha256', 300, at)).eql({ ok: false, reason: 'unsigned' });
    should(verifySignature({ ...PARAMS, sig: VECTORS.sha256 }, SECRET, 'sha256', 300, at + 301)).eql({ ok: false, reason: 'stale' });
    should(verifySignature({ ...PARAMS, sig: VECTORS.sha256 }, SECRET, 'sha256', 300, at - 301)).eql({ ok: false, reason: 'stale' });
    const { timestamp: _t, ...untimed } = PARAMS;
    should(verifySignature({ ...untimed, sig: 'x' }, SECRET, 'sha256', 300, at)).eql({ ok: false, reason: 'stale' });
    should(verifySignature({ ...PARAMS, sig: 'ABC' }, SECRET, 'sha256', 300, at)).eql({ ok: false, reason: 'mismatch' });
  });
});
