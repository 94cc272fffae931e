/**
 * How many parts Vonage bills for a text, counted the way API-NOTES §6 describes it, written
 * independently of the package's own counter so that the two check each other.
 */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

export function fitsGsm7(text: string): boolean {
  for (const ch of text) if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return false;
  return true;
}

/** GSM-7: 160 septets alone, 153 a part; an extension character takes two and is never split. */
function gsm7Parts(text: string): number {
  const units = [...text].map((ch) => (GSM_EXTENSION.has(ch) ? 2 : 1));
  const total = units.reduce((a, b) => a + b, 0);
  if (total <= 160) return 1;
  let parts = 1;
  let used = 0;
  for (const size of units) {
    if (used + size > 153) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/** UCS-2: 70 code units alone, 67 a part; a surrogate pair is never split. */
function ucs2Parts(text: string): number {
  const units = [...text].map((ch) => ch.length);
  const total = units.reduce((a, b) => a + b, 0);
  if (total <= 70) return 1;
  let parts = 1;
  let used = 0;
  for (const size of units) {
    if (used + size > 67) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/** Parts for a request's `type`: `unicode` counts UCS-2, `text` counts GSM-7 (as Vonage does, whatever the text holds). */
export function countParts(text: string, type: string): number {
  return type === 'unicode' ? ucs2Parts(text) : gsm7Parts(text);
}
