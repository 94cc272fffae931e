/**
 * Vonage's request signatures (signed webhooks), as API-NOTES §4 documents them: drop `sig`, sort
 * the keys by code unit, replace `&` and `=` in values with `_`, join as `&k=v…`, then hash with
 * the signature secret: `md5hash` (md5 of string + secret, lower-case hex) or HMAC-MD5/SHA1/SHA256/
 * SHA512 (upper-case hex). Compared case-insensitively, in constant time.
 */
import crypto from 'node:crypto';

export type SignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';
export const SIGNATURE_METHODS: SignatureMethod[] = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'];

export function stringToSign(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((key) => key !== 'sig')
    .sort()
    .map((key) => `&${key}=${String(params[key]).replace(/[&=]/g, '_')}`)
    .join('');
}

export function signatureFor(params: Record<string, string>, secret: string, method: SignatureMethod): string {
  const text = stringToSign(params);
  if (method === 'md5hash')
    return crypto
      .createHash('md5')
      .update(text + secret)
      .digest('hex');
  return crypto.createHmac(method, secret).update(text).digest('hex').toUpperCase();
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'unsigned' | 'stale' | 'mismatch' };

/**
 * @param windowSeconds how far `timestamp` may be from now, either way; Vonage documents no window, so it is ours.
 */
export function verifySignature(params: Record<string, string>, secret: string, method: SignatureMethod, windowSeconds: number, nowSeconds = Date.now() / 1000): SignatureVerdict {
  const given = params.sig;
  if (!given) return { ok: false, reason: 'unsigned' };
  const timestamp = Number(params.timestamp);
  if (!Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > windowSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signatureFor(params, secret, method).toUpperCase());
  const actual = Buffer.from(given.toUpperCase());
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same when they differ.
  const same = actual.length === expected.length ? crypto.timingSafeEqual(actual, expected) : !crypto.timingSafeEqual(expected, expected);
  return same ? { ok: true } : { ok: false, reason: 'mismatch' };
}
