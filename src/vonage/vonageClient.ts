/** The account's client for the API it speaks: the one place that tells the two apart. */
import type { VonageClient } from './client';
import { VonageMessagesClient } from './messagesClient';
import { VonageSmsClient } from './smsClient';

export interface ClientSettings {
  api: 'sms' | 'messages';
  apiKey: string;
  apiSecret: string;
  /** The API host: `https://rest.nexmo.com`, `https://api.nexmo.com`, a regional one, or the loopback API. */
  host: string;
  timeoutMs: number;
  /** Messages API with JWT: the Vonage Application's ID, with its private key (PEM). */
  applicationId?: string;
  privateKey?: string;
}

/** Throws an Error (never quoting a secret) when the Messages API's private key cannot be read. */
export function vonageClient(settings: ClientSettings): VonageClient {
  const { api, apiKey, apiSecret, host, timeoutMs, applicationId, privateKey } = settings;
  if (api === 'sms') return new VonageSmsClient({ apiKey, apiSecret, restHost: host, timeoutMs });
  return new VonageMessagesClient({ apiKey, apiSecret, host, timeoutMs, applicationId, privateKey });
}
