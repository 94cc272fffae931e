/**
 * Where SMS in and SMS receipt keep what they remember (the webhooks already passed on, the parts of
 * long SMS): in the node's own memory, as always, or, when the account's config node keeps shared
 * state (Redis), there, so that a Vonage retry or a part that reaches another Node-RED instance is
 * handled as if it had come here. The account is the "Signed by" node, or else the deployed
 * `nexmobasic` with the webhook's `api-key`. While the shared state is unreachable, requests fail
 * with SharedStateError (answered 503, so that Vonage retries), the status says so, and one warning
 * an outage says why.
 */
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode } from '../account/accountNode';
import { SharedStateError, type AccountState } from '../state/accountState';
import { MemoryAccountState } from '../state/memoryAccountState';
import { sharedStateFor } from '../account/registry';
import type { WebhookParams } from '../sms/webhookFields';
import { times, type ThrottledWarnings } from '../node-red/warnings';

export interface WebhookState {
  /**
   * What this node keeps for the account of this request, made on first use by `make` (a store of
   * ids, a joiner of long SMS): the shared state's when there is one, else this node's own.
   */
  forRequest<T>(params: WebhookParams, make: (state: AccountState) => T): T;
  /** Runs an operation on the state, reporting an unreachable shared state; rethrows its error. */
  use<T>(operation: () => Promise<T>): Promise<T>;
  /** Stops listening to the shared state, and closes what was made with `close()`. */
  close(): void;
}

/**
 * @param type the node's type, whose message catalogue its words come from.
 * @param warnings the node's throttled warnings: a flapping Redis warns once a minute, with the count.
 */
export function webhookState(RED: NodeAPI, node: Node, type: string, signedBy: NexmoBasicNode | null | undefined, warnings: ThrottledWarnings): WebhookState {
  const own = new MemoryAccountState();
  const made = new Map<AccountState, Map<(state: AccountState) => unknown, unknown>>();
  const listeners: Array<() => void> = [];
  let outage = false;

  const down = (err: Error) => {
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${type}.status.state-down`) });
    if (outage) return;
    outage = true;
    warnings.warn('state-down', (count) => RED._(`${type}.warn.state-down`, { error: err.message }) + times(count));
  };
  const up = () => {
    if (!outage) return;
    outage = false;
    node.status({});
  };

  const stateFor = (params: WebhookParams): AccountState => {
    const signer = signedBy?.state;
    const state = signer && !(signer instanceof Error) && signer.shared ? signer : sharedStateFor(params['api-key']);
    if (!state) return own;
    if (!made.has(state)) {
      made.set(state, new Map());
      state.on('down', down);
      state.on('up', up);
      listeners.push(() => {
        state.off('down', down);
        state.off('up', up);
      });
    }
    return state;
  };

  return {
    forRequest(params, make) {
      const state = stateFor(params);
      let things = made.get(state);
      if (!things) made.set(state, (things = new Map()));
      if (!things.has(make)) things.set(make, make(state));
      return things.get(make) as ReturnType<typeof make>;
    },
    async use(operation) {
      try {
        const result = await operation();
        up();
        return result;
      } catch (err) {
        if (err instanceof SharedStateError) down(err);
        throw err;
      }
    },
    close() {
      for (const off of listeners.splice(0)) off();
      for (const things of made.values()) {
        for (const thing of things.values()) (thing as { close?: () => void }).close?.();
      }
      made.clear();
    },
  };
}
