/** Vonage's `message-timestamp` ("2020-01-01 12:00:00", UTC) as an ISO 8601 string, or undefined. */
export function receivedAt(messageTimestamp: string | undefined): string | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(messageTimestamp ?? '');
  if (!match) return undefined;
  const date = new Date(`${match[1]}T${match[2]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
