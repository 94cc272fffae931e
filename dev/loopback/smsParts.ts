/**
 * How many parts Vonage bills for a text, counted the way API-NOTES §6 describes it, written
 * independently of the package's own counter so that the two check each other.
 */
const GSM_BASIC = new Set('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà');
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

export function fitsGsm7(text: string): boolean {
  for (const ch of text) if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return false;
  return true;
}

/** Parts for characters of these sizes: `single` units fit one SMS, `perPart` a part; no character is split. */
function partsFor(sizes: number[], single: number, perPart: number): number {
  if (sizes.reduce((a, b) => a + b, 0) <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perPart) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/** Parts for a request's `type`: `unicode` counts UCS-2, `text` counts GSM-7 (as Vonage does, whatever the text holds). */
export function countParts(text: string, type: string): number {
  const characters = [...text];
  // UCS-2: 70 code units alone, 67 a part, a surrogate pair taking two.
  if (type === 'unicode')
    return partsFor(
      characters.map((ch) => ch.length),
      70,
      67,
    );
  // GSM-7: 160 septets alone, 153 a part, an extension character taking two.
  return partsFor(
    characters.map((ch) => (GSM_EXTENSION.has(ch) ? 2 : 1)),
    160,
    153,
  );
}
