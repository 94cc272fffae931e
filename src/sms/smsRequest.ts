/** One SMS to send, as the Send SMS node composes it and either Vonage API takes it. */
export interface SmsRequest {
  to: string;
  from: string;
  text: string;
  type: 'text' | 'unicode';
  /** Where Vonage sends this SMS's delivery receipts, instead of the dashboard's webhook. */
  callback?: string;
  /** Comes back in the send response and every delivery receipt (`client-ref`). */
  clientRef?: string;
  /** The one confirmation of an opt-out: sent to a number on the opt-out list, by design. Never sent to Vonage. */
  confirmsOptOut?: boolean;
}
