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
import type { NexmoBasicNode, OptOutPolicy } from '../account/accountNode';
import { optOutAccounts } from '../account/optOutAccounts';
import { countSegments } from '../sms/encoding';
import { matchKeyword, mentionsStop, OPT_OUT_NUMBER, STANDARD_KEYWORDS, type OptOutKeyword, type OptOutMark } from '../sms/optOut';
import type { SendReceiver } from '../sending/sendQueue';
import type { WebhookParams } from '../sms/webhookFields';
import type { AccountState, RecentIdStore } from '../state/accountState';
import { candidateAccounts } from '../account/registry';
import { throttledWarnings, times } from '../node-red/warnings';

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
  /** Confirmations still waiting in the send queue are not sent. */
  close(): void;
}

/** One confirmation per number in this window. */
const CONFIRMATION_WINDOW_MS = 24 * 3_600_000;

/** SMS in's side: keywords recorded, and their confirmations. */
export function webhookOptOuts(RED: NodeAPI, node: Node, signedBy: NexmoBasicNode | null | undefined): WebhookOptOuts {
  const queues = new Set<{ cancel(owner: string, reason: string): number }>();
  const warnings = throttledWarnings((line) => node.warn(line));
  /** Numbers confirmed within the window, one store an account state. */
  const confirmed = new WeakMap<AccountState, RecentIdStore>();
  const accountsOf = (params: WebhookParams) => optOutAccounts(signedBy, params);

  const notSent = (to: string, error: string) => warnings.warn('reply-failed', (count) => RED._('vonage-sms-in.warn.reply-failed', { to, error }) + times(count));

  /** Whether the confirmation may go: one per number a day, `replyLimit` an hour. */
  const mayConfirm = async (account: NexmoBasicNode, to: string): Promise<boolean> => {
    const limit = (account.optOuts as OptOutPolicy).replyLimit;
    const state = account.state;
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
        warnings.warn('optout-ambiguous', (count) => RED._('vonage-sms-in.warn.optout-ambiguous', { from: params.msisdn, keyword: keyword.toUpperCase(), accounts: found.length, count }));
      }
      return { keyword, mark, changed };
    },

    confirm(params, keyword) {
      const found = accountsOf(params);
      // A webhook that may be for several accounts: which one would pay for the confirmation is not known.
      if (found.length !== 1) return;
      const account = found[0].accounts.find((candidate) => (candidate.optOuts as OptOutPolicy).replies[keyword]);
      if (!account) return;
      const text = (account.optOuts as OptOutPolicy).replies[keyword]!;
      const to = params.msisdn;
      const from = params.to;
      if (!from) return warnings.warn('reply-no-to', () => RED._('vonage-sms-in.warn.reply-no-to', { keyword: keyword.toUpperCase(), to }));
      const queue = account.sendQueue;
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

    close() {
      warnings.close();
      for (const queue of queues) queue.cancel(node.id, RED._('vonage-sms-in.errors.stopped'));
      queues.clear();
    },
  };
}
