/**
 * Long inbound SMS arrive as one webhook per part (`concat-ref`, `concat-total`, `concat-part`),
 * in any order. LongSmsAssembler joins the parts of one message, from one sender to one number, in
 * part order and hands it on once. Parts still missing after the wait are handed on as they are,
 * marked incomplete: no part is dropped silently.
 *
 * Memory is bounded twice: at most `maxPending` messages wait, and their parts hold at most
 * `maxChars` characters in all; beyond either, the oldest message is handed on incomplete. The
 * webhook has checked every field first (see webhookFields.ts): 1 ≤ part ≤ total ≤ 255.
 */
import { MAX_LONG_SMS_PARTS } from './webhookFields';

export type InboundParams = Record<string, string>;

export interface AssembledSms {
  /** The first part's fields, with `text` the parts' texts joined in order. */
  params: InboundParams;
  /** Every part received, in part order. */
  parts: InboundParams[];
  complete: boolean;
  /** Part numbers that never came. */
  missing: number[];
}

interface Pending {
  total: number;
  parts: Map<number, InboundParams>;
  chars: number;
  timer: NodeJS.Timeout;
}

/** Part numbers as a person reads them: [2, 3, 4, 7] → "2-4, 7". */
export function partRanges(numbers: number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < numbers.length; i += 1) {
    const start = numbers[i];
    while (i + 1 < numbers.length && numbers[i + 1] === numbers[i] + 1) i += 1;
    ranges.push(numbers[i] === start ? String(start) : `${start}-${numbers[i]}`);
  }
  return ranges.join(', ');
}

export function isPartOfLongSms(params: InboundParams): boolean {
  return params.concat === 'true' && !!params['concat-ref'] && Number(params['concat-total']) > 1;
}

/**
 * The checked part number and total of a long SMS part, and the key of its message: one sender, one
 * number, one reference, one total (a part that names another total belongs to another message).
 */
export function partOf(params: InboundParams): { key: string; part: number; total: number } {
  const total = Number(params['concat-total']);
  const part = Number(params['concat-part']);
  if (!(Number.isInteger(total) && Number.isInteger(part) && part >= 1 && part <= total && total <= MAX_LONG_SMS_PARTS)) {
    throw new RangeError(`not a part of a long SMS: part ${params['concat-part']} of ${params['concat-total']}`);
  }
  return { key: `${params.msisdn}|${params.to}|${params['concat-ref']}|${total}`, part, total };
}

/** The message the parts received make: text joined in part order, and which parts never came. */
export function joinParts(total: number, received: Iterable<[number, InboundParams]>): AssembledSms {
  const byPart = new Map(received);
  const parts = [...byPart.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
  const missing: number[] = [];
  for (let n = 1; n <= total; n += 1) if (!byPart.has(n)) missing.push(n);
  return { params: { ...parts[0], text: parts.map((p) => p.text ?? '').join('') }, parts, complete: missing.length === 0, missing };
}

/** What a part costs to keep: the characters of its names and values. */
function sizeOf(params: InboundParams): number {
  let chars = 0;
  for (const key in params) chars += key.length + params[key].length;
  return chars;
}

export class LongSmsAssembler {
  private readonly pending = new Map<string, Pending>();
  private chars = 0;

  constructor(
    private readonly waitMs: number,
    private readonly emit: (sms: AssembledSms) => void,
    private readonly maxPending = 1000,
    /** About 4 MB: 255 parts of 8,000 characters, far more than real parts hold. */
    private readonly maxChars = 2_000_000,
  ) {}

  get waiting(): number {
    return this.pending.size;
  }

  /** Characters held by the parts waiting. */
  get held(): number {
    return this.chars;
  }

  add(params: InboundParams): void {
    const { key, part, total } = partOf(params);
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= this.maxPending) this.flush(this.pending.keys().next().value as string);
      entry = { total, parts: new Map(), chars: 0, timer: setTimeout(() => this.flush(key), this.waitMs) };
      this.pending.set(key, entry);
    }
    if (entry.parts.has(part)) return;
    const size = sizeOf(params);
    entry.parts.set(part, params);
    entry.chars += size;
    this.chars += size;
    if (entry.parts.size >= entry.total) return this.flush(key);
    // Oldest first; the message just added to may be the one to go.
    while (this.chars > this.maxChars && this.pending.size) this.flush(this.pending.keys().next().value as string);
  }

  /** Hands on every waiting message as it is (on close). */
  flushAll(): void {
    for (const key of [...this.pending.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    this.chars -= entry.chars;
    this.emit(joinParts(entry.total, entry.parts));
  }
}
