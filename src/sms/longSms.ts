/**
 * Long inbound SMS arrive as one webhook per part (`concat-ref`, `concat-total`, `concat-part`),
 * in any order. LongSmsAssembler joins the parts of one message, from one sender to one number, in
 * part order and hands it on once. Parts still missing after the wait are handed on as they are,
 * marked incomplete: no part is dropped silently. At most `maxPending` messages wait; beyond that
 * the oldest is handed on incomplete, so memory stays bounded.
 */
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
  timer: NodeJS.Timeout;
}

export function isPartOfLongSms(params: InboundParams): boolean {
  return params.concat === 'true' && !!params['concat-ref'] && Number(params['concat-total']) > 1;
}

export class LongSmsAssembler {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly waitMs: number,
    private readonly emit: (sms: AssembledSms) => void,
    private readonly maxPending = 1000,
  ) {}

  get waiting(): number {
    return this.pending.size;
  }

  add(params: InboundParams): void {
    const key = `${params.msisdn}|${params.to}|${params['concat-ref']}`;
    const part = Number(params['concat-part']);
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= this.maxPending) this.flush(this.pending.keys().next().value as string);
      entry = { total: Number(params['concat-total']), parts: new Map(), timer: setTimeout(() => this.flush(key), this.waitMs) };
      this.pending.set(key, entry);
    }
    if (!entry.parts.has(part)) entry.parts.set(part, params);
    if (entry.parts.size >= entry.total) this.flush(key);
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
    const parts = [...entry.parts.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
    const missing: number[] = [];
    for (let n = 1; n <= entry.total; n += 1) if (!entry.parts.has(n)) missing.push(n);
    const first = parts[0];
    this.emit({ params: { ...first, text: parts.map((p) => p.text ?? '').join('') }, parts, complete: missing.length === 0, missing });
  }
}
