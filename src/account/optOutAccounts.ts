/**
 * The accounts a webhook's opt-out is recorded for (SMS in's keywords, SMS receipt's refusals): the
 * "Signed by" node, else the deployed `nexmobasic` nodes with the webhook's `api-key`, else, for a Messages
 * API webhook that names none, every deployed one.
 */
import type { NexmoBasicNode, OptOutPolicy } from './accountNode';
import { OPT_OUT_NUMBER } from '../sms/optOut';
import { OPTED_OUT_CODE } from '../vonage/messagesErrors';
import type { WebhookParams } from '../sms/webhookFields';
import { candidateAccounts } from './registry';

/**
 * The receipts that say the recipient opted out: the SMS API's `failed` or `rejected` with err-code 9
 * ("illegal number: opted out or blocked"), the Messages API's `rejected` or `undeliverable` with
 * error 1240 ("illegal number: the recipient sent STOP").
 */
const OPTED_OUT = {
  sms: { statuses: new Set(['failed', 'rejected']), code: '9' },
  messages: { statuses: new Set(['rejected', 'undeliverable']), code: OPTED_OUT_CODE },
};

/** An account's list, keywords and confirmations: the config nodes of one API key together. */
export interface AccountOptOuts {
  accounts: NexmoBasicNode[];
  policy: OptOutPolicy;
}

const honours = (account: NexmoBasicNode) => {
  const policy = account.optOuts;
  return !(policy instanceof Error) && policy.honoured;
};

/**
 * The accounts of a webhook that honour opt-outs, one entry an API key. Several config nodes may have
 * the key (one per tab, say): opt-outs are honoured if any of them honours them; the list is the one in
 * the shared state if one has it (else they share the file); a confirmation is the first set.
 */
export function optOutAccounts(signedBy: NexmoBasicNode | null | undefined, params: WebhookParams): AccountOptOuts[] {
  const byKey = signedBy ? new Map([['', [signedBy]]]) : candidateAccounts(params['api-key']);
  const found: AccountOptOuts[] = [];
  for (const candidates of byKey.values()) {
    const accounts = candidates.filter(honours);
    if (accounts.length === 0) continue;
    const shared = accounts.find((account) => {
      const state = account.state;
      return !(state instanceof Error) && state.shared;
    });
    const chosen = shared ?? accounts[0];
    found.push({ accounts: [chosen, ...accounts.filter((account) => account !== chosen)], policy: chosen.optOuts as OptOutPolicy });
  }
  return found;
}

/** SMS receipt: records the number when the carrier refuses it as opted out; resolves true then. */
export async function receiptOptOut(signedBy: NexmoBasicNode | null | undefined, params: WebhookParams, api: 'sms' | 'messages'): Promise<boolean> {
  const optedOut = OPTED_OUT[api];
  if (!optedOut.statuses.has(params.status) || params['err-code'] !== optedOut.code || !OPT_OUT_NUMBER.test(params.msisdn ?? '')) return false;
  const found = optOutAccounts(signedBy, params);
  if (found.length === 0) return false;
  for (const { policy } of found) await policy.list.add(params.msisdn, 'receipt');
  return true;
}
