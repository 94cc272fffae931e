/**
 * The shared states of the deployed `nexmobasic` nodes, by API key: SMS in and SMS receipt with no
 * "Signed by" find their account's state from the `api-key` Vonage puts in every webhook.
 */
import type { AccountState } from './accountState';

const byApiKey = new Map<string, Set<AccountState>>();

export function registerState(apiKey: string, state: AccountState): () => void {
  let states = byApiKey.get(apiKey);
  if (!states) byApiKey.set(apiKey, (states = new Set()));
  states.add(state);
  return () => {
    states!.delete(state);
    if (states!.size === 0 && byApiKey.get(apiKey) === states) byApiKey.delete(apiKey);
  };
}

/** The shared state of a deployed config node with this API key, if one has one. */
export function sharedStateFor(apiKey: string | undefined): AccountState | undefined {
  if (!apiKey) return undefined;
  for (const state of byApiKey.get(apiKey) ?? []) if (state.shared) return state;
  return undefined;
}
