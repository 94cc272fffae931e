/**
 * Which webhooks SMS in and SMS receipt have already passed on: in the node's own memory, as
 * always, or, when the account's config node keeps shared state (Redis), there, so that a Vonage
 * retry that reaches another Node-RED instance is acknowledged and not passed on again. The account
 * is the "Signed by" node, or else the deployed `nexmobasic` with the webhook's `api-key`.
 * While the shared state is unreachable, requests fail with SharedStateError (answered 503, so
 * Vonage retries), the status says so, and one warning an outage says why.
 */
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode } from './accountNode';
import { MemoryAccountState, SharedStateError, type AccountState, type RecentIdStore, type StateScope } from './state/accountState';
import { sharedStateFor } from './state/registry';
import type { WebhookParams } from './sms/webhookFields';

export interface WebhookDedup {
  /** True when this id was passed on already (by any instance, with shared state). Rejects with SharedStateError. */
  seen(params: WebhookParams, id: string): Promise<boolean>;
  /** Stops listening to the shared state. */
  close(): void;
}

export function webhookDedup(RED: NodeAPI, node: Node, scope: StateScope, windowMs: number, signedBy: NexmoBasicNode | null | undefined): WebhookDedup {
  const local = new MemoryAccountState().recentIds(scope, windowMs);
  const stores = new Map<AccountState, RecentIdStore>();
  const listeners: Array<() => void> = [];
  let outage = false;

  const down = (err: Error) => {
    node.status({ fill: 'red', shape: 'ring', text: RED._('vonage-sms-in.status.state-down') });
    if (outage) return;
    outage = true;
    node.warn(RED._('vonage-sms-in.warn.state-down', { error: err.message }));
  };
  const up = () => {
    if (!outage) return;
    outage = false;
    node.status({});
  };

  const storeFor = (state: AccountState): RecentIdStore => {
    let store = stores.get(state);
    if (store) return store;
    store = state.recentIds(scope, windowMs);
    stores.set(state, store);
    state.on('down', down);
    state.on('up', up);
    listeners.push(() => {
      state.off('down', down);
      state.off('up', up);
    });
    return store;
  };

  return {
    async seen(params, id) {
      const signer = signedBy?.accountState();
      const state = signer && !(signer instanceof Error) && signer.shared ? signer : sharedStateFor(params['api-key']);
      if (!state) return local.seen(id);
      try {
        const seen = await storeFor(state).seen(id);
        up();
        return seen;
      } catch (err) {
        if (err instanceof SharedStateError) down(err);
        throw err;
      }
    },
    close() {
      for (const off of listeners.splice(0)) off();
    },
  };
}
