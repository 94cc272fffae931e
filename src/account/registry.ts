/**
 * The deployed `nexmobasic` nodes and their shared states, by API key: SMS in and SMS receipt with
 * no "Signed by" find their account (its state, its opt-out list) from the `api-key` Vonage puts in
 * every webhook.
 */
import type { NexmoBasicNode } from './accountNode';
import type { AccountState } from '../state/accountState';

const statesByKey = new Map<string, Set<AccountState>>();
const accountsByKey = new Map<string, Set<NexmoBasicNode>>();

/** Adds the thing under the key; the function returned takes it out again. */
function register<T>(byKey: Map<string, Set<T>>, key: string, thing: T): () => void {
  let things = byKey.get(key);
  if (!things) byKey.set(key, (things = new Set()));
  things.add(thing);
  return () => {
    things!.delete(thing);
    if (things!.size === 0 && byKey.get(key) === things) byKey.delete(key);
  };
}

export function registerState(apiKey: string, state: AccountState): () => void {
  return register(statesByKey, apiKey, state);
}

/**
 * The API key a webhook is for: its own, or, for one that names none (a Messages API webhook that is
 * not signed), the only one deployed here, when there is just one.
 */
function keyFor(apiKey: string | undefined): string | undefined {
  if (apiKey) return apiKey;
  return accountsByKey.size === 1 ? accountsByKey.keys().next().value : undefined;
}

/** The shared state of a deployed config node with this API key, if one has one. */
export function sharedStateFor(apiKey: string | undefined): AccountState | undefined {
  const key = keyFor(apiKey);
  if (!key) return undefined;
  for (const state of statesByKey.get(key) ?? []) if (state.shared) return state;
  return undefined;
}

export function registerAccount(apiKey: string, account: NexmoBasicNode): () => void {
  return register(accountsByKey, apiKey, account);
}

/**
 * The deployed config nodes a webhook may be for, by API key: those with its `api-key`, or, for one that
 * names none (a Messages API webhook that is not signed), every deployed one.
 */
export function candidateAccounts(apiKey: string | undefined): Map<string, NexmoBasicNode[]> {
  if (apiKey) return new Map(accountsByKey.has(apiKey) ? [[apiKey, [...accountsByKey.get(apiKey)!]]] : []);
  return new Map([...accountsByKey].map(([key, accounts]) => [key, [...accounts]]));
}
