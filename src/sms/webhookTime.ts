/**
 * Vonage's `message-timestamp` ("2020-01-01 12:00:00", UTC) as an ISO 8601 string, or undefined
 * when it is not one: an impossible date such as 2021-02-30 is no date, not 2021-03-02.
 */
export function receivedAt(messageTimestamp: string | undefined): string | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(messageTimestamp ?? '');
  if (!match) return undefined;
  const written = `${match[1]}T${match[2]}`;
  const date = new Date(`${written}Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  // Date rolls an impossible day or hour over into the next: it must read back as written.
  return iso.startsWith(written) ? iso : undefined;
}
