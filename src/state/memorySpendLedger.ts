/** The spend ledger in this Node-RED alone (see SpendLedger): bounded to the last hour's recipients and three days. */
import type { DayUsage, SpendAnswer, SpendAsk, SpendLedger } from './accountState';

const HOUR_MS = 3_600_000;
/** Days kept: today, and a day either side for a clock or a time zone at its edge. */
const DAYS_KEPT = 3;

export class MemorySpendLedger implements SpendLedger {
  /** Number → when each SMS to it was counted, oldest first, within the hour. */
  private readonly recipients = new Map<string, number[]>();
  private readonly days = new Map<string, DayUsage>();

  constructor(private readonly now: () => number = Date.now) {}

  take(ask: SpendAsk): SpendAnswer {
    const now = this.now();
    this.forgetOld(now);
    const sent = this.recipients.get(ask.recipient);
    while (sent && sent.length > 0 && sent[0] <= now - HOUR_MS) sent.shift();
    if (ask.cap > 0 && sent && sent.length >= ask.cap) return 'recipient';
    const day = this.day(ask.day);
    if (ask.maxParts !== undefined && day.parts + ask.parts > ask.maxParts) return 'parts';
    if (ask.maxMoney !== undefined && day.money + ask.money > ask.maxMoney + 1e-9) return 'money';
    day.parts += ask.parts;
    day.money += ask.money;
    if (ask.cap > 0) {
      // Last texted last: the Map's order is the order of each number's latest SMS.
      const list = sent ?? [];
      list.push(now);
      this.recipients.delete(ask.recipient);
      this.recipients.set(ask.recipient, list);
    }
    return 'ok';
  }

  adjust(change: { day: string; parts: number; money: number; recipient?: string }): void {
    const day = this.day(change.day);
    day.parts = Math.max(0, day.parts + change.parts);
    day.money = Math.max(0, day.money + change.money);
    if (change.recipient === undefined) return;
    const sent = this.recipients.get(change.recipient);
    sent?.pop();
    if (sent?.length === 0) this.recipients.delete(change.recipient);
  }

  usage(day: string): DayUsage {
    return { ...(this.days.get(day) ?? { parts: 0, money: 0 }) };
  }

  private day(key: string): DayUsage {
    let day = this.days.get(key);
    if (!day) {
      this.days.set(key, (day = { parts: 0, money: 0 }));
      for (const old of [...this.days.keys()].sort().slice(0, Math.max(0, this.days.size - DAYS_KEPT))) this.days.delete(old);
    }
    return day;
  }

  /** Drops the numbers not texted within the hour: the least recently texted come first. */
  private forgetOld(now: number): void {
    for (const [number, sent] of this.recipients) {
      if (sent[sent.length - 1] > now - HOUR_MS) break;
      this.recipients.delete(number);
    }
  }
}
