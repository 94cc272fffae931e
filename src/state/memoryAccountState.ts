/** The account's state in this Node-RED alone: what the package always did. */
import { EventEmitter } from 'node:events';
import { LongSmsAssembler, type AssembledSms } from '../sms/longSms';
import { RecentIds } from '../sms/recentIds';
import type { AccountState, SpendLedger, HourlyAllowance, LongSmsJoiner, LongSmsOptions, OptOutList, RecentIdStore, SendSlots, StateScope } from './accountState';
import { MemoryOptOutList } from './optOutFile';
import { MemorySpendLedger } from './memorySpendLedger';

const HOUR_MS = 3_600_000;

export class MemoryAccountState extends EventEmitter implements AccountState {
  readonly where = 'memory';
  readonly shared = false;
  readonly available = true;

  /** @param optOutList the account's list, kept in a file (optOutFile.ts); without, in memory only. */
  constructor(private readonly optOutList: OptOutList = new MemoryOptOutList()) {
    super();
  }

  optOuts(): OptOutList {
    return this.optOutList;
  }

  recentIds(_scope: StateScope, windowMs: number): RecentIdStore {
    const ids = new RecentIds(windowMs);
    return {
      seen: async (id) => ids.seen(id),
      // In memory the mark is made when the call returns: nothing can make it behind the caller's back.
      mark: async (id) => (ids.seen(id) ? undefined : { forget: async () => ids.forget(id) }),
    };
  }

  private readonly allowances = new Map<string, number[]>();

  hourlyAllowance(kind: string, perHour: number): HourlyAllowance {
    return {
      take: async () => {
        const now = Date.now();
        let taken = this.allowances.get(kind);
        if (!taken) this.allowances.set(kind, (taken = []));
        while (taken.length > 0 && taken[0] <= now - HOUR_MS) taken.shift();
        if (taken.length >= perHour) return false;
        taken.push(now);
        return true;
      },
    };
  }

  private ledger: SpendLedger | undefined;

  spendLedger(): SpendLedger {
    this.ledger ??= new MemorySpendLedger();
    return this.ledger;
  }

  /** No journal: the SMS waiting in a Node-RED that dies die with it (the README says so). */
  sendJournal(): undefined {
    return undefined;
  }

  sendSlots(): SendSlots | undefined {
    return undefined;
  }

  longSms(options: LongSmsOptions, emit: (sms: AssembledSms) => void): LongSmsJoiner {
    const assembler = new LongSmsAssembler(options.waitMs, emit, options.maxPending, options.maxChars);
    return {
      add: async (params) => assembler.add(params),
      close: () => assembler.flushAll(),
    };
  }

  async close(): Promise<void> {}
}
