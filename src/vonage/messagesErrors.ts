/** What the Messages API's SMS statuses and error codes mean (MESSAGES-API-NOTES §4, §6). */

/** Statuses after which nothing changes; `submitted` is on the way. */
const FINAL_STATUSES = new Set(['delivered', 'rejected', 'undeliverable', 'read']);

export function isMessagesFinalStatus(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

/** The code a recipient who replied STOP gets: "Illegal Number". */
export const OPTED_OUT_CODE = '1240';

const MEANINGS: Record<string, string> = {
  '1000': "Throttled: over the account's submission capacity; retry after a wait",
  '1010': 'Missing parameters: a mandatory parameter is absent',
  '1020': 'Invalid parameters: a value is invalid',
  '1030': 'Internal error at Vonage; retry',
  '1040': 'Invalid message: it could not be processed (an unknown number prefix, say)',
  '1050': 'Number barred: the destination is on a block list',
  '1060': 'Partner account barred: this account may not send',
  '1070': 'Provider quota exceeded; retry later',
  '1080': 'Account not enabled for REST',
  '1090': 'Message too long',
  '1100': 'Communication failed: not submitted; retry',
  '1120': 'Illegal sender address: the sender ID is refused by local rules; change From',
  '1130': 'Invalid TTL',
  '1140': 'Facility not allowed: the feature is not enabled on the account',
  '1150': 'Invalid message class',
  '1160': 'Non white-listed destination: a trial account sends only to its test numbers',
  '1170': 'Invalid recipient',
  '1180': 'Destination temporarily unavailable; retry later',
  '1190': 'Absent subscriber, permanent: the number is no longer in use',
  '1200': 'Portability error: the number changed carrier and the route failed',
  '1210': 'Anti-spam rejection by the carrier (sender ID or content)',
  '1220': 'Handset busy',
  '1230': 'Temporary network failure',
  '1240': 'Illegal number: the recipient has opted out (replied STOP); never send to it again',
  '1241': 'Too many send requests to phone numbers: slow down',
  '1242': 'Number pool does not exist',
  '1250': 'Unroutable: no route to the number',
  '1251': 'Unable to route traffic to the destination',
  '1260': 'Destination unreachable',
  '1270': 'Subscriber age restriction',
  '1280': 'Number blocked by the carrier',
  '1282': 'Message rejected by the provider',
  '1290': 'Prepaid subscriber without funds',
  '1300': 'Not part of the provider network',
  '1310': 'Not a suitable device',
  '1320': 'Message already sent',
  '1330': 'Delivery failed',
  '1331': 'Provider error; retry minutes later',
  '1360': 'Expired before delivery (TTL)',
  '1400': 'Unsupported channel',
  '1410': 'Invalid channel parameters',
  '1420': 'Invalid sender',
  '1430': 'Invalid recipient',
  '1431': 'Several recipients in one request',
  '1440': 'Invalid message type',
  '1450': 'Invalid client reference: at most 100 characters',
  '1460': 'Daily message limit exceeded (a US 10DLC cap, say)',
  '1470': 'Fraud Defender traffic rule',
  '1472': 'Fraud Defender SMS burst protection',
  '1473': 'Fraud Defender artificial traffic protection',
  '1474': 'Fraud Defender country block',
  '1475': 'Fraud Defender network block',
  '1476': 'Do not originate: the sending number is on a DNO list',
  '1480': 'Entity filter: entity_id missing or wrong (regulatory)',
  '1481': 'Header filter: the sender is not registered (regulatory)',
  '1482': 'Content filter: content_id missing or wrong (regulatory)',
  '1483': 'Consent filter: the recipient has not consented (regulatory)',
  '1484': 'Authentication or compliance failure',
  '1490': "SMS segment timeout: not every part's outcome came back; parts may have been delivered",
};

/** The error code (the status webhook's `error.title`) in words; '' for none. */
export function describeMessagesError(code: string | undefined): string {
  if (code === undefined || code === '') return '';
  return MEANINGS[code] ?? `Unknown error code ${code}`;
}
