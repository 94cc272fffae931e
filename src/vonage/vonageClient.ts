/** The account's client for the API it speaks: the one place that tells the two apart. */
import type { VonageClient } from './client';
import { VonageMessagesClient, type MessagesAccount } from './messagesClient';
import { VonageSmsClient } from './smsClient';

/** The account, and which API it speaks: `host` is the SMS API's REST host or the Messages API's. */
export type ClientSettings = MessagesAccount & { api: 'sms' | 'messages' };

/** Throws an Error (never quoting a secret) when the Messages API's private key cannot be read. */
export function vonageClient(settings: ClientSettings): VonageClient {
  const { api, apiKey, apiSecret, host, timeoutMs, applicationId, privateKey, proxy } = settings;
  if (api === 'sms') return new VonageSmsClient({ apiKey, apiSecret, restHost: host, timeoutMs, proxy });
  return new VonageMessagesClient({ apiKey, apiSecret, host, timeoutMs, applicationId, privateKey, proxy });
}
