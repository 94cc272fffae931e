import should from 'should';
import { SmsTemplate, TemplateError, type TemplateSources } from '../../src/sms/template';

function sources(msg: unknown, context: Record<string, unknown> = {}, env: Record<string, string> = {}): TemplateSources & { reads: string[] } {
  const reads: string[] = [];
  return {
    msg,
    reads,
    env: (name) => env[name],
    context: async (scope, key, store) => {
      reads.push(`${scope}${store ? `[${store}]` : ''}.${key}`);
      return context[`${scope}${store ? `[${store}]` : ''}.${key}`];
    },
  };
}

describe('SmsTemplate', () => {
  it('renders {{msg.…}} tags, nested properties and sections', async () => {
    const t = new SmsTemplate('You said {{msg.payload.text}}{{#msg.items}} [{{.}}]{{/msg.items}}', 'Text');
    should(await t.render(sources({ payload: { text: 'hi' }, items: ['a', 'b'] }))).equal('You said hi [a] [b]');
  });

  it('reads only the flow/global tags the template uses, through the asynchronous context API', async () => {
    const t = new SmsTemplate('{{flow.greeting}} {{global.owner}} {{flow[file].count}}', 'Text');
    const s = sources({}, { 'flow.greeting': 'Hi', 'global.owner': 'Ada', 'flow[file].count': 3, 'flow.unused': 'x' });
    should(await t.render(s)).equal('Hi Ada 3');
    should(s.reads.sort()).eql(['flow.greeting', 'flow[file].count', 'global.owner']);
  });

  it('reads env tags', async () => {
    should(await new SmsTemplate('{{env.SENDER}}', 'From').render(sources({}, {}, { SENDER: 'Acme' }))).equal('Acme');
  });

  it('does not HTML-escape, in double or triple braces', async () => {
    const value = `It's <5> & "ok"`;
    const t = new SmsTemplate(`${value} {{msg.payload}} {{{msg.payload}}}`, 'Text');
    should(await t.render(sources({ payload: value }))).equal(`${value} ${value} ${value}`);
  });

  it('renders a missing value as empty, numbers as digits and objects as JSON', async () => {
    const t = new SmsTemplate('[{{msg.nothing}}][{{flow.nothing}}][{{msg.n}}][{{msg.o}}]', 'Text');
    should(await t.render(sources({ n: 42, o: { a: 1 } }))).equal('[][][42][{"a":1}]');
  });

  it('returns a fixed text as it is, with no context read', async () => {
    const t = new SmsTemplate('Hello World', 'Text');
    const s = sources({});
    should(t.isFixed).be.true();
    should(await t.render(s)).equal('Hello World');
    should(s.reads).be.empty();
  });

  it('refuses an unclosed tag with an error naming the field', () => {
    should(() => new SmsTemplate('Hi {{msg.payload', 'To')).throw(TemplateError, { message: /^To: the template does not parse: Unclosed tag at 16/ });
    should(() => new SmsTemplate('{{#msg.a}}x', 'Text')).throw(TemplateError, { message: /^Text: the template does not parse: Unclosed section "msg.a"/ });
  });
});
