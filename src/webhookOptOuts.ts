/**
 * What SMS in and SMS receipt do for opt-outs: a STOP (or START) is recorded on the account's list
 * before the webhook is answered 200, a delivery receipt that says the carrier refuses the number
 * (err-code 9) records it too, and SMS in confirms a keyword that changed the list. The account is the
 * "Signed by" node, else the deployed `nexmobasic` with the webhook's `api-key`; a Messages API webhook
 * that names none may be for any deployed account, and is recorded on each. With none, or with opt-outs
 * off, nothing is recorded.
 *
 * Confirmations are sent by the account's send queue (its rate and countries apply), but since anyone who
 * finds an unsigned webhook can forge a keyword, they are held to: a keyword that changed the list (HELP
 * always qualifies), one per number per 24 hours, and the account's `replylimit` per rolling hour, counted
 * across instances in a Shared state. What is held back is counted in one warning a minute.
 */
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode, OptOutPolicy } from './accountNode';
import { countSegments } from './sms/encoding';
import { matchKeyword, mentionsStop, OPT_OUT_NUMBER, STANDARD_KEYWORDS, type OptOutKeyword, type OptOutMark } from './sms/optOut';
import type { SendReceiver } from './sms/sendQueue';
import type { WebhookParams } from './sms/webhookFields';
import type { AccountState, RecentIdStore } from './state/accountState';
import { candidateAccounts } from './state/registry';
import { OPTED_OUT_CODE } from './sms/messagesErrors';
import { throttledWarnings, times } from './warnings';

/** What SMS in learnt of an inbound SMS. */
export interface KeywordOutcome {
  /** The keyword the whole text is, if any. */
  keyword?: OptOutKeyword;
  /** `msg.payload.optOut`: the keyword recorded, or `maybe` for a text that mentions a stop word. */
  mark?: OptOutMark;
  /** Whether the keyword changed the list (a STOP from a number not on it, a START from one on it). */
  changed: boolean;
}

export interface WebhookOptOuts {
  /**
   * SMS in: which keyword the SMS is, if any, recorded (STOP added, START removed) before this resolves,
   * unless the number's last change is later than `at` (the message's time). Call it once a message id.
   */
  inbound(params: WebhookParams, at: string | undefined): Promise<KeywordOutcome>;
  /** SMS in: sends the account's confirmation of a keyword that changed the list (or HELP), within the limits. */
  confirm(params: WebhookParams, keyword: OptOutKeyword): void;
  /** SMS receipt: records the number when the carrier refuses it as opted out; resolves true then. */
  receipt(params: WebhookParams, api: 'sms' | 'messages'): Promise<boolean>;
  /** Confirmations still waiting in the send queue are not sent. */
  close(): void;
}

/**
 * The receipts that say the recipient opted out: the SMS API's `failed` or `rejected` with err-code 9
 * ("illegal number: opted out or blocked"), the Messages API's `rejected` or `undeliverable` with
 * error 1240 ("illegal number: the recipient sent STOP").
 */
const OPTED_OUT = {
  sms: { statuses: new Set(['failed', 'rejected']), code: '9' },
  messages: { statuses: new Set(['rejected', 'undeliverable']), code: OPTED_OUT_CODE },
};

/** One confirmation per number in this window. */
const CONFIRMATION_WINDOW_MS = 24 * 3_600_000;

/** An account's list, keywords and confirmations: the config nodes of one API key together. */
interface AccountOptOuts {
  accounts: NexmoBasicNode[];
  policy: OptOutPolicy;
}

export function webhookOptOuts(RED: NodeAPI, node: Node, signedBy: NexmoBasicNode | null | undefined): WebhookOptOuts {
  const queues = new Set<{ cancel(owner: string, reason: string): number }>();
  const warnings = throttledWarnings((line) => node.warn(line));
  /** Numbers confirmed within the window, one store an account state. */
  const confirmed = new WeakMap<AccountState, RecentIdStore>();

  const honours = (account: NexmoBasicNode) => {
    const policy = account.optOuts();
    return !(policy instanceof Error) && policy.honoured;
  };

  /**
   * The accounts of this webhook that honour opt-outs, one entry an API key. Several config nodes may
   * have the key (one per tab, say): opt-outs are honoured if any of them honours them; the list is the
   * one in the shared state if one has it (else they share the file); a confirmation is the first set.
   */
  const accountsOf = (params: WebhookParams): AccountOptOuts[] => {
    const byKey = signedBy ? new Map([['', [signedBy]]]) : candidateAccounts(params['api-key']);
    const found: AccountOptOuts[] = [];
    for (const candidates of byKey.values()) {
      const accounts = candidates.filter(honours);
      if (accounts.length === 0) continue;
      const shared = accounts.find((account) => {
        const state = account.accountState();
        return !(state instanceof Error) && state.shared;
      });
      const chosen = shared ?? accounts[0];
      found.push({ accounts: [chosen, ...accounts.filter((account) => account !== chosen)], policy: chosen.optOuts() as OptOutPolicy });
    }
    return found;
  };

  const notSent = (to: string, error: string) => warnings.warn('reply-failed', (count) => RED._('vonage-sms-in.warn.reply-failed', { to, error }) + times(count));

  /** Whether the confirmation may go: one per number a day, `replyLimit` an hour. */
  const mayConfirm = async (account: NexmoBasicNode, to: string): Promise<boolean> => {
    const limit = (account.optOuts() as OptOutPolicy).replyLimit;
    const state = account.accountState();
    if (state instanceof Error) throw state;
    let numbers = confirmed.get(state);
    if (!numbers) confirmed.set(state, (numbers = state.recentIds('reply', CONFIRMATION_WINDOW_MS)));
    if (await numbers.seen(to)) return false;
    if (limit > 0 && (await state.hourlyAllowance('opt-out-replies', limit).take())) return true;
    warnings.warn('replies-held', (count) => RED._('vonage-sms-in.warn.replies-held', { count, limit }));
    return false;
  };

  return {
    async inbound(params, at) {
      if (typeof params.text !== 'string') return { changed: false };
      const found = accountsOf(params);
      if (found.length === 0) {
        // No account to record it for: say so, rather than drop a STOP silently (an account with
        // opt-outs turned off is a choice, and says nothing).
        const none = signedBy ? false : candidateAccounts(params['api-key']).size === 0;
        if (none && matchKeyword(params.text, STANDARD_KEYWORDS) === 'stop') {
          warnings.warn('optout-no-account', (count) => RED._('vonage-sms-in.warn.optout-no-account', { from: params.msisdn, key: params['api-key'] ?? '' }) + times(count));
        }
        return { changed: false };
      }
      const keyword = matchKeyword(params.text, found[0].policy.keywords);
      if (!keyword) return { changed: false, mark: mentionsStop(params.text, found[0].policy.keywords) ? 'maybe' : undefined };
      const mark = keyword === 'help' ? undefined : keyword;
      if (!mark || !OPT_OUT_NUMBER.test(params.msisdn)) return { keyword, mark, changed: false };
      let changed = false;
      for (const { policy } of found) {
        const own = matchKeyword(params.text, policy.keywords);
        if (own === 'stop') changed = (await policy.list.add(params.msisdn, 'keyword', at)) || changed;
        else if (own === 'start') changed = (await policy.list.remove(params.msisdn, at)) || changed;
      }
      if (found.length > 1) {
        warnings.warn('optout-ambiguous', (count) =>
          RED._('vonage-sms-in.warn.optout-ambiguous', { from: params.msisdn, keyword: keyword.toUpperCase(), accounts: found.length, count }),
        );
      }
      return { keyword, mark, changed };
    },

    confirm(params, keyword) {
      const found = accountsOf(params);
      // A webhook that may be for several accounts: which one would pay for the confirmation is not known.
      if (found.length !== 1) return;
      const account = found[0].accounts.find((candidate) => (candidate.optOuts() as OptOutPolicy).replies[keyword]);
      if (!account) return;
      const text = (account.optOuts() as OptOutPolicy).replies[keyword]!;
      const to = params.msisdn;
      const from = params.to;
      if (!from) return warnings.warn('reply-no-to', () => RED._('vonage-sms-in.warn.reply-no-to', { keyword: keyword.toUpperCase(), to }));
      const queue = account.sendQueue();
      if (queue instanceof Error) return notSent(to, queue.message);
      mayConfirm(account, to).then(
        (may) => {
          if (!may) return;
          queues.add(queue);
          const receiver: SendReceiver = {
            outcome(err) {
              if (err) notSent(to, err.message);
            },
          };
          queue.enqueue({ to, from, text, type: countSegments(text).type, confirmsOptOut: true }, node.id, receiver);
        },
        (err: Error) => notSent(to, err.message),
      );
    },

    async receipt(params, api) {
      const optedOut = OPTED_OUT[api];
      if (!optedOut.statuses.has(params.status) || params['err-code'] !== optedOut.code || !OPT_OUT_NUMBER.test(params.msisdn ?? '')) return false;
      const found = accountsOf(params);
      if (found.length === 0) return false;
      for (const { policy } of found) await policy.list.add(params.msisdn, 'receipt');
      return true;
    },

    close() {
      warnings.close();
      for (const queue of queues) queue.cancel(node.id, RED._('vonage-sms-in.errors.stopped'));
      queues.clear();
    },
  };
}
