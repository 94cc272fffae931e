/**
 * From the Send SMS node's three templates and a msg, the SMS to send: rendered, with
 * numbers normalised to E.164 digits and the encoding and parts counted. Nothing here sends.
 */
import { countSegments, MAX_TEXT_LENGTH, type SmsEncoding } from './encoding';
import { normaliseNumber } from './phoneNumber';
import { normaliseSender } from './sender';
import type { SmsRequest } from './smsClient';
import { SmsTemplate, type TemplateSources } from './template';

export class SmsTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsTextError';
  }
}

export interface SmsTemplates {
  to: SmsTemplate;
  from: SmsTemplate;
  text: SmsTemplate;
  /** Force Unicode (UCS-2) even when the text would fit GSM-7. */
  unicode: boolean;
}

export interface ComposedSms extends SmsRequest {
  encoding: SmsEncoding;
  parts: number;
  characters: number;
}

/** Parses the fields once; throws TemplateError naming the field whose template does not parse. */
export function parseSmsTemplates(fields: { to?: string; fr?: string; text?: string; unicode?: boolean }): SmsTemplates {
  return {
    to: new SmsTemplate(fields.to ?? '', 'To'),
    from: new SmsTemplate(fields.fr ?? '', 'From'),
    text: new SmsTemplate(fields.text ?? '', 'Text'),
    unicode: fields.unicode === true,
  };
}

export async function composeSms(templates: SmsTemplates, sources: TemplateSources, defaultCountry?: string): Promise<ComposedSms> {
  const [to, from, text] = await Promise.all([
    templates.to.render(sources),
    templates.from.render(sources),
    templates.text.render(sources),
  ]);
  const sms = {
    to: normaliseNumber(to, 'To', defaultCountry),
    from: normaliseSender(from, defaultCountry),
  };
  if (text.length === 0) throw new SmsTextError('Text is empty: there is nothing to send');
  const length = countSegments(text, templates.unicode);
  if (length.characters > MAX_TEXT_LENGTH) {
    throw new SmsTextError(`Text is ${length.characters} characters long: Vonage accepts at most ${MAX_TEXT_LENGTH}`);
  }
  return { ...sms, text, type: length.type, encoding: length.encoding, parts: length.parts, characters: length.characters };
}
