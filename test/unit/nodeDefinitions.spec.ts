/**
 * What the editor shows of each node, read from the node definitions as the editor runs them (each HTML
 * file's script, with RED stood in): palette labels that the palette does not split (it breaks a label at
 * every '-' and joins the pieces with spaces: "Opt - out list"), and validations that say what is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import should from 'should';

const ROOT = path.join(__dirname, '..', '..');
type Definition = { paletteLabel?: string; defaults: Record<string, { validate?: (v: unknown) => unknown }> };

function definitions(): Map<string, Definition> {
  const found = new Map<string, Definition>();
  const RED = { nodes: { registerType: (type: string, def: Definition) => found.set(type, def) }, _: (key: string) => key, validators: { number: () => () => true, regex: () => () => true } };
  for (const file of fs.readdirSync(path.join(ROOT, 'nodes')).filter((f) => f.endsWith('.html'))) {
    const html = fs.readFileSync(path.join(ROOT, 'nodes', file), 'utf8');
    for (const [, script] of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) vm.runInNewContext(script, { RED, window: {}, $: () => ({ length: 0 }) });
  }
  return found;
}

describe('node definitions in the editor', () => {
  const defs = definitions();

  it('reads every node definition', () => {
    should([...defs.keys()].sort()).eql(['nexmobasic', 'sendsms', 'vonage-optout', 'vonage-sms-in', 'vonage-sms-receipt', 'vonage-sms-usage']);
  });

  it('names each node in the palette without an ASCII hyphen (the palette would show "Opt - out list")', () => {
    for (const [type, def] of defs) should(def.paletteLabel ?? type).not.match(/-/, `${type}: ${def.paletteLabel}`);
    should(defs.get('vonage-optout')!.paletteLabel).equal('Opt\u2011out list');
  });

  it('flags a relative Receipt URL with words, and takes a full one', () => {
    const validate = defs.get('sendsms')!.defaults.callback.validate!;
    should(validate('/sms/receipt')).equal('sendsms.errors.bad-callback');
    should(validate('https://example.com/sms/receipt')).equal(true);
    should(validate('')).equal(true);
    should(validate(`https://example.com/${'x'.repeat(100)}`)).equal('sendsms.errors.bad-callback');
  });
});
