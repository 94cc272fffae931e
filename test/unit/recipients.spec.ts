/**
 * Who a msg goes to: a list typed in To, or msg.to, and never a list that a {{tag}}'s value brings
 * (SMS pumping through a forged webhook); at most MAX_RECIPIENTS.
 */
import should from 'should';
import { composeSms, parseSmsTemplates } from '../../src/sms/composeSms';
import { MAX_RECIPIENTS, RecipientsTemplate, TooManyRecipientsError, typedEntries } from '../../src/sms/recipients';
import type { TemplateSources } from '../../src/sms/template';

const sources = (msg: unknown): TemplateSources => ({ msg, env: () => undefined, context: async () => undefined });
const render = (to: string, msg: Record<string, unknown> = {}) => new RecipientsTemplate(to).render(sources(msg), (msg as { to?: unknown }).to);

describe('recipients', () => {
  it('cuts the To field at the commas, semicolons and new lines typed in it, never inside a tag or section', () => {
    should(typedEntries('447700900001, 447700900002;447700900003\n447700900004')).eql(['447700900001', ' 447700900002', '447700900003', '447700900004']);
    should(typedEntries('{{msg.payload.msisdn}}')).eql(['{{msg.payload.msisdn}}']);
    should(typedEntries('{{flow.boss}}, {{flow.deputy}}')).eql(['{{flow.boss}}', ' {{flow.deputy}}']);
    should(typedEntries('{{#msg.list}}{{.}},{{/msg.list}}')).eql(['{{#msg.list}}{{.}},{{/msg.list}}']);
    should(typedEntries('{{=<% %>=}}<% msg.a %>, <% msg.b %>')).eql(['{{=<% %>=}}<% msg.a %>, <% msg.b %>']);
  });

  it('takes what a tag renders as one recipient, however many numbers it holds', async () => {
    const forged = { payload: { msisdn: '447700900001,447700900002;447700900003\n447700900004' } };
    should(await render('{{msg.payload.msisdn}}', forged)).eql([forged.payload.msisdn]);
    should(await render('{{{msg.payload.msisdn}}}', forged)).eql([forged.payload.msisdn]);
    should(await render('{{& msg.payload.msisdn}}', forged)).eql([forged.payload.msisdn]);
    should(await render('{{msg.boss}}, {{msg.deputy}}', { boss: '447700900001', deputy: '447700900002' })).eql(['447700900001', '447700900002']);
  });

  it('takes msg.to when To renders empty: an array item each, or a list in a string', async () => {
    should(await render('', { to: ['447700900001', '447700900002,447700900003'] })).eql(['447700900001', '447700900002,447700900003']);
    should(await render('', { to: '447700900001; 447700900002' })).eql(['447700900001', '447700900002']);
    should(await render('{{msg.nobody}}', { to: '447700900001' })).eql(['447700900001']);
    should(await render('')).eql(['']);
  });

  it(`refuses more than ${MAX_RECIPIENTS} recipients in one msg, whole`, async () => {
    const numbers = (n: number) => Array.from({ length: n }, (_, i) => String(447700900000 + i));
    should(await render('', { to: numbers(MAX_RECIPIENTS) })).have.length(MAX_RECIPIENTS);
    await should(render('', { to: numbers(MAX_RECIPIENTS + 1) })).be.rejectedWith(/^To names 1001 recipients: at most 1000 in one msg, so nothing was sent/);
    const typed = await Promise.resolve(render(numbers(MAX_RECIPIENTS + 1).join(','))).catch((err: Error) => err);
    should(typed).be.instanceOf(TooManyRecipientsError);
  });

  it('sends a forged list of numbers nowhere: one recipient, refused as one bad number with a short quote', async () => {
    const templates = parseSmsTemplates({ to: '{{msg.payload.msisdn}}', fr: '447700900000', text: 'You said {{msg.payload.text}}' });
    const msisdn = Array.from({ length: 1500 }, (_, i) => String(447700900000 + i)).join(',');
    const batch = await composeSms(templates, sources({ payload: { msisdn, text: '{{env.HOME}} {{msg.payload.msisdn}}' } }));
    should(batch.messages).have.length(1);
    should(batch.messages[0].sms).be.undefined();
    should(batch.messages[0].error!.message).equal(`To "${msisdn.slice(0, 40)}"… (${msisdn.length} characters) is too long to be a phone number`);
  });

  it('never renders a value again: tags in an inbound text are sent as written', async () => {
    const templates = parseSmsTemplates({ to: '447700900001', fr: '447700900000', text: 'You said {{msg.payload.text}}' });
    const batch = await composeSms(templates, sources({ payload: { text: '{{env.HOME}} {{global.secret}}' } }));
    should(batch.messages[0].sms!.text).equal('You said {{env.HOME}} {{global.secret}}');
  });
});
