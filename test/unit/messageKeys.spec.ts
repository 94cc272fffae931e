/**
 * Every message a node logs or shows comes from its own catalogue: Node-RED looks a key up in the catalogue
 * of the node that asks, and logs the bare key when it is missing there (SMS receipt once logged
 * `vonage-sms-in.warn.state-down`, a key of SMS in's). Every key written in src/ is checked against its
 * catalogue; keys built from the node's type (code shared by SMS in and SMS receipt) against both; and a key
 * written with a node's type may only be in code that no other node's file imports.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';

const ROOT = path.join(__dirname, '..', '..');
const TYPES = ['nexmobasic', 'sendsms', 'vonage-sms-in', 'vonage-sms-receipt', 'vonage-optout', 'vonage-sms-usage'];
/** The node types whose code builds keys from `type`: the two webhook nodes. */
const WEBHOOK_TYPES = ['vonage-sms-in', 'vonage-sms-receipt'];
/** What the variables inside built keys can be. A new variable must be listed here. */
const VALUES: Record<string, string[]> = {
  type: WEBHOOK_TYPES,
  'node.type': WEBHOOK_TYPES,
  problem: ['signer-missing', 'signer-no-secret'],
  how: ['shadowed', 'shadowing'],
  reason: ['unsigned', 'stale', 'mismatch'],
  'err.limit': ['country', 'recipient', 'parts', 'money', 'price'],
  accountStatus: ['no-creds', 'bad-proxy', 'bad-account'],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'editor' ? [] : sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

const catalogues = Object.fromEntries(TYPES.map((type) => [type, JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8'))[type]]));
const has = (key: string) => {
  let at: unknown = catalogues;
  for (const part of key.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  return typeof at === 'string';
};

/** Every key a template can make, its `${…}` replaced by each value. */
function expand(template: string): string[] {
  const match = /\$\{([^}]+)\}/.exec(template);
  if (!match) return [template];
  const values = VALUES[match[1]];
  if (!values) throw new Error(`no values listed for \${${match[1]}} in ${template}`);
  return values.flatMap((value) => expand(template.replace(match[0], value)));
}

/** The files each node's file reaches through its relative imports. */
function reachedBy(type: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !fs.existsSync(file)) return;
    seen.add(file);
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/^import (?!type )[^'"]*['"](\.[^'"]+)['"]/gm)) visit(path.resolve(path.dirname(file), `${spec}.ts`));
  };
  visit(path.join(ROOT, 'src', `${type}.ts`));
  return seen;
}

describe('message keys', () => {
  const keys = new Map<string, string>();
  const literal: Array<[string, string]> = [];
  for (const file of sources(path.join(ROOT, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    const where = path.relative(ROOT, file);
    for (const [, key] of text.matchAll(new RegExp(`'((?:${TYPES.join('|')})\\.[a-z-]+\\.[a-z0-9.-]+)'`, 'g'))) {
      keys.set(key, where);
      literal.push([key, file]);
    }
    for (const [, template] of text.matchAll(/RED\._\(`([^`]+)`/g)) for (const key of expand(template)) keys.set(key, where);
  }

  it('are found in the source, literal and built', () => {
    should(keys.size).be.above(60);
    should([...keys.keys()]).containEql('vonage-sms-receipt.warn.state-down');
  });

  it("written with a node's type are in code only that node uses", () => {
    const reach = Object.fromEntries(TYPES.map((type) => [type, reachedBy(type)]));
    should(reach['vonage-sms-receipt'].has(path.join(ROOT, 'src', 'webhooks', 'state.ts'))).be.true();
    const strays = literal.flatMap(([key, file]) => TYPES.filter((type) => type !== key.split('.')[0] && reach[type].has(file)).map((type) => `${key} in ${path.relative(ROOT, file)}, which ${type} uses too`));
    should(strays).eql([]);
  });

  it('each exist in the catalogue of their node type', () => {
    const missing = [...keys].filter(([key]) => !has(key)).map(([key, file]) => `${key} (${file})`);
    should(missing).eql([]);
  });
});
