/**
 * The SMS API's per-message status codes: what each means and what the user can do about it.
 * Texts follow Vonage's troubleshooting guide for the SMS API.
 */
export interface StatusMeaning {
  meaning: string;
  advice: string;
  /** A few words for a node's status: "wrong API key or secret". */
  short: string;
}

const STATUSES: Record<string, StatusMeaning> = {
  '0': { meaning: 'Success', advice: 'the message was accepted for delivery', short: 'accepted' },
  '1': { meaning: 'Throttled', advice: 'you are sending faster than your account allows (30 requests per second by default): slow down and retry', short: 'throttled' },
  '2': { meaning: 'Missing parameters', advice: 'a required parameter (to, from or text) was missing from the request', short: 'missing parameters' },
  '3': { meaning: 'Invalid parameters', advice: 'a parameter value was not valid: check the To, From and Text values', short: 'invalid To, From or Text' },
  '4': { meaning: 'Invalid credentials', advice: 'the API key or secret is wrong: check them on the Vonage account (nexmobasic)', short: 'wrong API key or secret' },
  '5': { meaning: 'Internal error', advice: 'Vonage had an internal error: retry later', short: 'Vonage internal error' },
  '6': { meaning: 'Invalid message', advice: 'Vonage could not process the message; the destination may be unroutable', short: 'message not routable' },
  '7': { meaning: 'Number barred', advice: 'the destination number is barred from receiving messages', short: 'number barred' },
  '8': { meaning: 'Partner account barred', advice: 'your Vonage account is suspended: contact Vonage support', short: 'account suspended' },
  '9': { meaning: 'Partner quota violation', advice: 'your account does not have enough credit: top up your balance', short: 'no credit left' },
  '10': { meaning: 'Too many existing binds', advice: 'too many connections are open to Vonage: retry later', short: 'too many connections' },
  '11': { meaning: 'Account not enabled for HTTP', advice: 'your account is not set up for the HTTP API: contact Vonage support', short: 'account not enabled for HTTP' },
  '12': { meaning: 'Message too long', advice: 'the text is longer than Vonage accepts (3,200 characters): shorten it', short: 'text too long' },
  '14': { meaning: 'Invalid signature', advice: 'the request signature did not match: check the signature secret and method', short: 'wrong signature' },
  '15': { meaning: 'Invalid sender address', advice: 'the From value is not allowed: use one of your Vonage numbers, or a sender ID where the destination country allows it', short: 'sender not allowed' },
  '17': { meaning: 'Message blocked', advice: "the message was blocked by the destination carrier or Vonage's filters", short: 'message blocked' },
  '22': { meaning: 'Invalid network code', advice: 'the network code is unknown or does not match the destination', short: 'invalid network code' },
  '23': { meaning: 'Invalid callback URL', advice: 'the callback URL is too long or not valid', short: 'invalid Receipt URL' },
  '29': { meaning: 'Non-whitelisted destination', advice: 'the account is in demo mode: add the number as a test number in the Vonage dashboard, or top up your account', short: 'demo account: number not on its list' },
  '32': { meaning: 'Signature and API secret disallowed', advice: 'a signed request must not also carry the API secret', short: 'signature and secret both sent' },
  '33': { meaning: 'Number de-activated', advice: 'the destination number is de-activated and cannot receive messages', short: 'number de-activated' },
};

export function describeStatus(status: string): StatusMeaning {
  return STATUSES[status] ?? { meaning: 'Unknown status', advice: "see Vonage's SMS troubleshooting guide for this code", short: `status ${status}` };
}
