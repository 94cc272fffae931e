/** What a Send SMS node may ask of the `nexmobasic` config node it selects. */
/**
 * What the other nodes may ask of the `nexmobasic` config node they select: the account, resolved once
 * when the flows start. Each part is there, or is the configuration error that keeps it from being
 * used (no API key, a bad API host, an unreadable opt-out file…), which the node that needs it reports.
 */
import type { Node } from 'node-red';
import type { SendQueue } from '../sending/sendQueue';
import type { AccountState, OptOutList } from '../state/accountState';
import type { OptOutKeyword, OptOutKeywords } from '../sms/optOut';
import type { SignatureMethod } from '../vonage/smsSignature';
import type { VonageClient } from '../vonage/client';
import type { SpendGuard } from '../sending/spendGuard';
import type { SmsPricing } from '../vonage/pricing';

/**
 * A setting of the account that keeps it from sending, with the few words a Send SMS node's status gives
 * it: no credentials, a proxy that cannot be used, or another setting (the error's message says which).
 */
export class AccountError extends Error {
  constructor(
    message: string,
    readonly status: 'no-creds' | 'bad-proxy' | 'bad-account',
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface NexmoBasicCredentials {
  apikey?: string;
  apisecret?: string;
  /** Messages API with JWT: the Vonage Application's ID, with its private key (PEM). */
  appid?: string;
  privatekey?: string;
  /** The signature secret from the dashboard, for signed webhooks. */
  sigsecret?: string;
  /** redis://[:password@]host:port/db (rediss:// for TLS): state shared by every Node-RED instance; empty for memory. */
  redisurl?: string;
}

export interface NexmoBasicNode extends Node<NexmoBasicCredentials> {
  /** ISO 3166 code for national-format numbers, or ''. */
  country: string;
  /** The API host this node sends to. */
  restHost: string;
  /** The id of the `http proxy` config node its requests go through, or '' (the environment's proxy variables). */
  proxyNode: string;
  /** Which Vonage API this account speaks: the SMS API (the default) or the Messages API. */
  api: 'sms' | 'messages';
  /** The account's client, for the API it speaks. */
  readonly client: VonageClient | Error;
  /**
   * What an SMS part costs, by destination country, from Vonage's Pricing API (kept a day): for the money
   * budget and the price shown before sending. `pricing.price('DE')` or `pricing.estimate(to, parts)`
   * reject with a PricingError when the price is not known (the API down or refusing): never a guess.
   * An Error when the account has no client (no API key…).
   */
  readonly pricing: SmsPricing | Error;
  /** The send queue every Send SMS node of this account shares (rate limit, retries). */
  readonly sendQueue: SendQueue | Error;
  /** Where this account's state lives: memory, or Redis when `redisurl` is set. */
  readonly state: AccountState | Error;
  /** The account's spend limits (countries, budgets, per-recipient cap) and what they counted today. */
  readonly spend: SpendGuard | Error | undefined;
  /** The account's opt-out list and how it is kept. */
  readonly optOuts: OptOutPolicy | Error;
  /** How webhooks for this account are signed, when a signature secret is set. */
  readonly signature: { secret: string; method: SignatureMethod } | undefined;
}

/** The config node's opt-out settings and the list they apply to. */
export interface OptOutPolicy {
  /** The account's list: managed by the opt-out list node whether or not it is honoured. */
  list: OptOutList;
  /** Send SMS refuses numbers on the list, and SMS in and SMS receipt add to it (`optout` not false). */
  honoured: boolean;
  keywords: OptOutKeywords;
  /** The confirmation SMS in sends for each keyword, when set. */
  replies: Partial<Record<OptOutKeyword, string>>;
  /** Confirmations sent at most in any hour (0: none). */
  replyLimit: number;
}
