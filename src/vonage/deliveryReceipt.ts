/** What a delivery receipt's `status` and `err-code` mean (API-NOTES §3). */
const FINAL_STATUSES = new Set(['delivered', 'expired', 'failed', 'rejected']);

const ERROR_CODES: Record<string, string> = {
  '0': 'Delivered',
  '1': 'Unknown: the carrier gave no reason',
  '2': 'Absent subscriber, temporary: the phone is off or out of coverage',
  '3': 'Absent subscriber, permanent: the number is no longer in use',
  '4': 'Call barred by the user',
  '5': 'Portability error: the number was ported and the route failed',
  '6': 'Anti-spam rejection by the carrier',
  '7': 'Handset busy',
  '8': 'Network error',
  '9': 'Illegal number: the recipient has opted out or is blocked',
  '10': 'Illegal message: the content was rejected',
  '11': 'Unroutable: no route to the number',
  '12': 'Destination unreachable',
  '13': 'Subscriber age restriction',
  '14': 'Number blocked by the carrier',
  '15': 'Prepaid subscriber without funds',
  '50': 'Entity filter: the sender entity is not registered (regulatory)',
  '51': 'Header filter: the sender ID is not registered (regulatory)',
  '52': 'Content filter: the content template is not registered (regulatory)',
  '53': 'Consent filter: the recipient has not consented (regulatory)',
  '54': 'Regulation error',
  '99': 'General error',
};

export function isFinalStatus(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

export function describeErrorCode(code: string | undefined): string {
  if (code === undefined || code === '') return '';
  return ERROR_CODES[code] ?? `Unknown error code ${code}`;
}
