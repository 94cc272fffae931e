/**
 * The From field: a phone number (normalised like To) or an alphanumeric sender ID
 * such as "AcmeInc", which Vonage accepts up to 11 characters, spaces ignored.
 */
import { InvalidNumberError, normaliseNumber } from './phoneNumber';
import { quote } from './quote';

export const MAX_SENDER_ID_LENGTH = 11;

export function normaliseSender(input: string, defaultCountry?: string): string {
  const text = input.trim();
  if (!/[A-Za-z]/.test(text)) return normaliseNumber(text, 'From', defaultCountry);

  const quoted = quote(input);
  if (!/^[A-Za-z0-9 .&\-_+!']+$/.test(text)) {
    throw new InvalidNumberError(`From ${quoted} is not a valid sender ID: use letters, digits and spaces (or a phone number)`);
  }
  const counted = text.replace(/ /g, '').length;
  if (counted > MAX_SENDER_ID_LENGTH) {
    throw new InvalidNumberError(`From ${quoted} is too long for a sender ID: ${counted} characters, at most ${MAX_SENDER_ID_LENGTH}`);
  }
  return text;
}
