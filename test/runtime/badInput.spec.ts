/**
 * The table of bad inputs in docs/errors-and-bad-input.md, row by row, through the real runtime and the loopback API:
 * the table is this test's data, so it cannot drift from what the node really answers.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { useLoopbackApi } from '../support/loopback';
import { docTable, jsonCell } from '../support/docTable';
import { coreNodes, helper, nodeRedVersion, packageNodes } from '../support/nodeRed';

const ROOT = path.join(__dirname, '..', '..');
const SECRET = 's3cret-value';

interface Row {
  number: number;
  name: string;
  spec: { node?: Record<string, unknown>; msg?: Record<string, unknown>; config?: Record<string, unknown>; credentials?: Record<string, string> };
  expected: string;
}

function readTable(): Row[] {
  return docTable('docs/errors-and-bad-input.md', 'bad-input-table').map((cells) => ({ number: Number(cells[0]), name: cells[1], spec: jsonCell(cells[2]), expected: cells[3] }));
}

/** `{"$repeat": ["x", 3201]}` stands for a long string the table could not hold. */
function expand(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const repeat = (value as { $repeat?: [string, number] }).$repeat;
    if (repeat) return repeat[0].repeat(repeat[1]);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v)]));
  }
  return value;
}

/** The English text behind an i18n key (the test helper's RED._ returns keys), as a pattern for its placeholders. */
function english(key: string): RegExp | undefined {
  const [file, ...rest] = key.split('.');
  const catalog = path.join(ROOT, 'nodes', 'locales', 'en-US', `${file}.json`);
  if (!fs.existsSync(catalog)) return undefined;
  const text = rest.reduce((o: any, k) => o?.[k], JSON.parse(fs.readFileSync(catalog, 'utf8'))[file]);
  if (typeof text !== 'string') return undefined;
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/__\w+__/g, '.+');
  return new RegExp(`^${escaped}$`);
}

describe(`the documented bad inputs (Node-RED ${nodeRedVersion})`, function () {
  const rows = readTable();
  const loopback = useLoopbackApi([
    { apiKey: 'abcd1234', apiSecret: SECRET, balance: 10 },
    { apiKey: 'demo0003', apiSecret: SECRET, balance: 10, testNumbers: ['447700900001'] },
  ]);
  const { api } = loopback;

  it('has at least 30 rows, numbered in order', () => {
    should(rows.length).be.aboveOrEqual(30);
    should(rows.map((r) => r.number)).eql(rows.map((_, i) => i + 1));
  });

  for (const row of rows) {
    it(`${row.number}. ${row.name}`, async () => {
      const flow = [
        { id: 'tab', type: 'tab', label: 'bad input' },
        { id: 'cfg', type: 'nexmobasic', resthost: loopback.restHost, country: '', timeout: 2, retries: 0, ...row.spec.config },
        { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'AcmeInc', text: 'Hello', wires: [['out']], ...row.spec.node },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ];
      await helper.load([...packageNodes, coreNodes.catch], flow, { cfg: row.spec.credentials ?? { apikey: 'abcd1234', apisecret: SECRET } });
      const outcome = await new Promise<{ sent?: any; caught?: any }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('nothing came out')), 8000);
        helper.getNode('out').once('input', (m: any) => (clearTimeout(timer), resolve({ sent: m })));
        helper.getNode('caught').once('input', (m: any) => (clearTimeout(timer), resolve({ caught: m })));
        helper.getNode('send').receive({ payload: 'go', ...(expand(row.spec.msg ?? {}) as object) });
      });
      should(outcome.sent).be.undefined();
      const message = String(outcome.caught.error.message);
      const key = english(message);
      if (key) should(row.expected).match(key);
      else should(message).equal(row.expected);
      should(api.sent).be.empty();
    });
  }
});
