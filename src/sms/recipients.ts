/**
 * Who one Send SMS msg goes to. Several recipients come only from what the flow's author wrote: a
 * list typed in the To field (commas, semicolons or new lines between the entries) or `msg.to` (an
 * array, or such a list), which a flow sets on purpose. A value that a {{tag}} renders is always one
 * recipient, whatever it holds: a forged webhook whose msisdn is "447700900001,447700900002" names
 * one bad number, not two SMS at the owner's cost (SMS pumping).
 */
import Mustache from 'mustache';
import { SmsTemplate, type TemplateSources } from './template';

/** Recipients of one msg at most: one more fails the whole msg, and nothing is sent. */
export const MAX_RECIPIENTS = 1000;

export const RECIPIENT_SEPARATORS = /[,;\r\n]+/g;

type Token = [string, string, number, number, ...unknown[]];

/**
 * The To field's entries as typed: the source cut at separators in its literal text, outside every
 * tag and section. A template that changes its delimiters ({{=<% %>=}}) is one entry.
 */
export function typedEntries(source: string): string[] {
  const tokens = Mustache.parse(source) as unknown as Token[];
  if (tokens.some((token) => token[0] === '=')) return [source];
  const entries: string[] = [];
  let start = 0;
  for (const [type, value, at] of tokens) {
    if (type !== 'text') continue;
    for (const match of value.matchAll(RECIPIENT_SEPARATORS)) {
      entries.push(source.slice(start, at + match.index));
      start = at + match.index + match[0].length;
    }
  }
  entries.push(source.slice(start));
  return entries;
}

/** The To field: one template for each entry typed in it. */
export class RecipientsTemplate {
  readonly entries: SmsTemplate[];

  constructor(readonly source: string) {
    // Parsed whole first, so that a template error names the whole field.
    new SmsTemplate(source, 'To');
    this.entries = typedEntries(source).map((entry) => new SmsTemplate(entry, 'To'));
  }

  /**
   * The recipients as written, each trimmed, none empty: the To field's entries, or `msg.to` when
   * they all render empty: at once, or a promise when a flow or global tag is read. Rejects when
   * there are more than MAX_RECIPIENTS.
   */
  render(sources: TemplateSources, msgTo: unknown): string[] | Promise<string[]> {
    let rendered: Array<string | Promise<string>>;
    try {
      rendered = this.entries.map((entry) => entry.render(sources));
      if (rendered.every((r): r is string => typeof r === 'string')) return this.recipientsOf(rendered, msgTo);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.all(rendered).then((all) => this.recipientsOf(all, msgTo));
  }

  private recipientsOf(rendered: string[], msgTo: unknown): string[] | Promise<string[]> {
    let recipients = rendered.map((r) => r.trim()).filter((r) => r !== '');
    if (recipients.length === 0 && msgTo !== undefined && msgTo !== null) {
      const list = Array.isArray(msgTo) ? msgTo : typeof msgTo === 'string' ? msgTo.split(RECIPIENT_SEPARATORS) : [msgTo];
      recipients = list.map((item) => (item === null || item === undefined ? '' : String(item).trim())).filter((r) => r !== '');
    }
    if (recipients.length > MAX_RECIPIENTS) return Promise.reject(tooMany(recipients.length));
    // Nobody at all: one recipient, empty, so that the usual "To is empty" error says so.
    return recipients.length ? recipients : [''];
  }
}

export class TooManyRecipientsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooManyRecipientsError';
  }
}

function tooMany(count: number): TooManyRecipientsError {
  return new TooManyRecipientsError(`To names ${count} recipients: at most ${MAX_RECIPIENTS} in one msg, so nothing was sent; split the list over several msgs`);
}
