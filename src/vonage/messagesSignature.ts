/**
 * Signed webhooks of the Messages API (MESSAGES-API-NOTES §7): `Authorization: Bearer <JWT>`, HS256
 * with the account's signature secret, whose `payload_hash` is the SHA-256 of the body and whose
 * `iat` is recent. Checked here in full: the signature (in constant time, HS256 only), the body's
 * hash (in constant time) and the time. Vonage's SDK verifier checks only the signature.
 */
import crypto from 'node:crypto';

export type MessagesSignatureVerdict = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'unsigned' | 'stale' | 'mismatch' };

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{1,512})$/;

function json(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * @param authorization the request's Authorization header.
 * @param body the body as received (its bytes); when Node-RED had parsed it already, its JSON text
 *   (what Vonage's own samples hash).
 * @param windowSeconds how far `iat` may be from now, either way.
 */
export function verifyMessagesSignature(authorization: string | undefined, body: string, secret: string, windowSeconds: number, nowSeconds = Date.now() / 1000): MessagesSignatureVerdict {
  const match = BEARER.exec(authorization ?? '');
  if (!match) return { ok: false, reason: 'unsigned' };
  const [, headerPart, claimsPart, signaturePart] = match;
  const header = json(headerPart);
  // HS256 only: never "none", never another algorithm the token names.
  if (!header || header.alg !== 'HS256') return { ok: false, reason: 'mismatch' };
  const expected = crypto.createHmac('sha256', secret).update(`${headerPart}.${claimsPart}`).digest();
  if (!sameBytes(expected, Buffer.from(signaturePart, 'base64url'))) return { ok: false, reason: 'mismatch' };
  const claims = json(claimsPart);
  if (!claims) return { ok: false, reason: 'mismatch' };
  const hash = crypto.createHash('sha256').update(body, 'utf8').digest();
  const claimed = typeof claims.payload_hash === 'string' && /^[0-9a-fA-F]{64}$/.test(claims.payload_hash) ? Buffer.from(claims.payload_hash, 'hex') : Buffer.alloc(0);
  if (!sameBytes(hash, claimed)) return { ok: false, reason: 'mismatch' };
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(nowSeconds - iat) > windowSeconds) return { ok: false, reason: 'stale' };
  return { ok: true, claims };
}
