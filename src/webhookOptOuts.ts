/**
 * What SMS in and SMS receipt do for opt-outs: a STOP (or START) is recorded on the account's list
 * before the webhook is answered 200, a delivery receipt that says the carrier refuses the number
 * (err-code 9) records it too, and SMS in sends the account's confirmation, once a keyword message,
 * through the account's send queue. The account is the "Signed by" node, else the deployed
 * `nexmobasic` with the webhook's `api-key`; with none, or with opt-outs off, nothing is recorded.
 */
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode, OptOutPolicy } from './accountNode';
import { countSegments } from './sms/encoding';
import { matchKeyword, OPT_OUT_NUMBER, STANDARD_KEYWORDS, type OptOutKeyword } from './sms/optOut';
import type { SendReceiver } from './sms/sendQueue';
import type { WebhookParams } from './sms/webhookFields';
import { accountsFor } from './state/registry';
import { OPTED_OUT_CODE } from './sms/messagesErrors';

export interface WebhookOptOuts {
  /**
   * SMS in: which keyword the SMS is, if any, recorded (STOP added, START removed) before this
   * resolves. Recording twice is harmless, so a retry after a failure records again.
   */
  inbound(params: WebhookParams): Promise<OptOutKeyword | undefined>;
  /** SMS in: sends the account's confirmation of the keyword, when it has one. */
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

export function webhookOptOuts(RED: NodeAPI, node: Node, signedBy: NexmoBasicNode | null | undefined): WebhookOptOuts {
  const queues = new Set<{ cancel(owner: string, reason: string): number }>();

  /**
   * The account's opt-out list, keywords and confirmations, when it honours opt-outs. Several config
   * nodes may have the webhook's API key (one per tab, say): opt-outs are honoured if any of them
   * honours them; the list is the one in the shared state if one has it (else they share the file);
   * a confirmation is the first one set among them.
   */
  const policyFor = (params: WebhookParams): { accounts: NexmoBasicNode[]; policy: OptOutPolicy } | undefined => {
    const accounts = (signedBy ? [signedBy] : accountsFor(params['api-key'])).filter((account) => {
      const policy = account.optOuts();
      return !(policy instanceof Error) && policy.honoured;
    });
    if (accounts.length === 0) return undefined;
    const shared = accounts.find((account) => {
      const state = account.accountState();
      return !(state instanceof Error) && state.shared;
    });
    const chosen = shared ?? accounts[0];
    return { accounts: [chosen, ...accounts.filter((account) => account !== chosen)], policy: chosen.optOuts() as OptOutPolicy };
  };

  return {
    async inbound(params) {
      if (typeof params.text !== 'string') return undefined;
      const found = policyFor(params);
      if (!found) {
        // No account to record it for: say so, rather than drop a STOP silently (an account with
        // opt-outs turned off is a choice, and says nothing).
        const none = signedBy ? false : accountsFor(params['api-key']).length === 0;
        if (none && matchKeyword(params.text, STANDARD_KEYWORDS) === 'stop') {
          node.warn(RED._('vonage-sms-in.warn.optout-no-account', { from: params.msisdn, key: params['api-key'] ?? '' }));
        }
        return undefined;
      }
      const keyword = matchKeyword(params.text, found.policy.keywords);
      if (!keyword || !OPT_OUT_NUMBER.test(params.msisdn)) return keyword;
      if (keyword === 'stop') await found.policy.list.add(params.msisdn, 'keyword');
      else if (keyword === 'start') await found.policy.list.remove(params.msisdn);
      return keyword;
    },

    confirm(params, keyword) {
      const found = policyFor(params);
      const account = found?.accounts.find((candidate) => (candidate.optOuts() as OptOutPolicy).replies[keyword]);
      if (!account) return;
      const text = (account.optOuts() as OptOutPolicy).replies[keyword]!;
      const to = params.msisdn;
      const from = params.to;
      if (!from) return node.warn(RED._('vonage-sms-in.warn.reply-no-to', { keyword: keyword.toUpperCase(), to }));
      const queue = account.sendQueue();
      if (queue instanceof Error) return node.warn(RED._('vonage-sms-in.warn.reply-failed', { to, error: queue.message }));
      queues.add(queue);
      const receiver: SendReceiver = {
        outcome(err) {
          if (err) node.warn(RED._('vonage-sms-in.warn.reply-failed', { to, error: err.message }));
        },
      };
      queue.enqueue({ to, from, text, type: countSegments(text).type, confirmsOptOut: true }, node.id, receiver);
    },

    async receipt(params, api) {
      const optedOut = OPTED_OUT[api];
      if (!optedOut.statuses.has(params.status) || params['err-code'] !== optedOut.code || !OPT_OUT_NUMBER.test(params.msisdn ?? '')) return false;
      const found = policyFor(params);
      if (!found) return false;
      await found.policy.list.add(params.msisdn, 'receipt');
      return true;
    },

    close() {
      for (const queue of queues) queue.cancel(node.id, RED._('vonage-sms-in.errors.stopped'));
      queues.clear();
    },
  };
}
