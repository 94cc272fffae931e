/**
 * From the Send SMS node's three templates and a msg, the SMS to send: rendered, with
 * numbers normalised to E.164 digits and the encoding and parts counted. Nothing here sends.
 */
import { countSegments, MAX_TEXT_LENGTH, type SmsEncoding } from './encoding';
import { normaliseNumber } from './phoneNumber';
import { RecipientsTemplate } from './recipients';
import { normaliseSender } from './sender';
import type { SmsRequest } from './smsRequest';
import { SmsTemplate, type TemplateSources } from './template';

export class SmsTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsTextError';
  }
}

export interface SmsTemplates {
  /** Several recipients only as typed in the field or given in msg.to (recipients.ts). */
  to: RecipientsTemplate;
  from: SmsTemplate;
  text: SmsTemplate;
  /** `client-ref`; empty renders as the msg's _msgid. */
  clientRef: SmsTemplate;
  /** Receipt URL, or ''. */
  callback: string;
  /** Force Unicode (UCS-2) even when the text would fit GSM-7. */
  unicode: boolean;
}

export interface ComposedSms extends SmsRequest {
  encoding: SmsEncoding;
  parts: number;
  characters: number;
}

/** One SMS for each recipient, or the reason that recipient cannot have one. */
export interface ComposedBatch {
  messages: Array<{ recipient: string; sms?: ComposedSms; error?: Error }>;
}

/** Vonage accepts a client-ref of up to 100 characters (40 in older documentation). */
export const MAX_CLIENT_REF_LENGTH = 100;

/** Parses the fields once; throws TemplateError naming the field whose template does not parse. */
export function parseSmsTemplates(fields: { to?: string; fr?: string; text?: string; unicode?: boolean; clientref?: string; callback?: string }): SmsTemplates {
  const callback = (fields.callback ?? '').trim();
  if (callback && (!/^https?:\/\/\S+$/.test(callback) || callback.length > 100)) {
    throw new SmsTextError(`Receipt URL ${JSON.stringify(callback)} is not an http(s) URL of at most 100 characters`);
  }
  return {
    to: new RecipientsTemplate(fields.to ?? ''),
    from: new SmsTemplate(fields.fr ?? '', 'From'),
    text: new SmsTemplate(fields.text ?? '', 'Text'),
    clientRef: new SmsTemplate(fields.clientref ?? '', 'Client ref'),
    callback,
    unicode: fields.unicode === true,
  };
}

/**
 * Renders the fields and builds one SMS a recipient. A bad From or Text fails the whole msg
 * (thrown); a bad number fails only its recipient (in the batch).
 * @param msgTo `msg.to` (a list or an array), used when the To field renders empty.
 */
export async function composeSms(templates: SmsTemplates, sources: TemplateSources, defaultCountry?: string, msgTo?: unknown): Promise<ComposedBatch> {
  const rendered = [templates.to.render(sources, msgTo), templates.from.render(sources), templates.text.render(sources), templates.clientRef.render(sources)] as const;
  // Without flow or global tags, everything renders at once: no promise each (a burst of 300 msgs, BENCHMARKS.md).
  const [recipients, from, text, ref] = rendered.some((r) => r instanceof Promise) ? await Promise.all(rendered) : (rendered as unknown as [string[], string, string, string]);
  const clientRef = ref.trim() || String((sources.msg as { _msgid?: unknown })?._msgid ?? '');
  if (clientRef.length > MAX_CLIENT_REF_LENGTH) {
    throw new SmsTextError(`Client ref is ${clientRef.length} characters long: Vonage accepts at most ${MAX_CLIENT_REF_LENGTH}`);
  }
  const sender = normaliseSender(from, defaultCountry);
  if (text.length === 0) throw new SmsTextError('Text is empty: there is nothing to send');
  const length = countSegments(text, templates.unicode);
  if (length.characters > MAX_TEXT_LENGTH) {
    throw new SmsTextError(`Text is ${length.characters} characters long: Vonage accepts at most ${MAX_TEXT_LENGTH}`);
  }
  const common = {
    from: sender,
    text,
    type: length.type,
    encoding: length.encoding,
    parts: length.parts,
    characters: length.characters,
    ...(clientRef ? { clientRef } : {}),
    ...(templates.callback ? { callback: templates.callback } : {}),
  };
  return {
    messages: recipients.map((recipient) => {
      try {
        return { recipient, sms: { ...common, to: normaliseNumber(recipient, 'To', defaultCountry) } };
      } catch (err) {
        return { recipient, error: err as Error };
      }
    }),
  };
}
