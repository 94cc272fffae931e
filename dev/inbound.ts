/**
 * `npm run inbound -- "Hello"`: while `npm start` runs, has the loopback Vonage API deliver an
 * inbound SMS to Node-RED's GET /sms webhook, as Vonage would, then prints the reply the
 * "Reply to an SMS" flow sent back through the loopback API.
 *
 * Options: --from 447700900001 (the sender's number), --to 447700900000 (your Vonage number),
 * --path /sms (the webhook), --parts N (send the text as a long SMS in N parts, last part first),
 * --spread (with `npm start -- --redis`: the parts go to the two Node-RED instances in turn), --api messages
 * (the Messages API's JSON webhook; by default, the API npm start's account speaks).
 * It finds a running `npm start` through npm-start.json in its user directory (NODE_RED_USER_DIR,
 * default .node-red); PORT and LOOPBACK_PORT, when set, name the ports instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RecordedRequest } from './loopback/vonageSmsApi';
import { inboundRequests } from './loopback/webhooks';

const ROOT = path.join(__dirname, '..');

/** Node-RED's and the loopback API's addresses: PORT / LOOPBACK_PORT, else what npm start wrote, else the defaults. */
function addresses(): { editor: string; editors: string[]; loopback: string; source: string; api: 'sms' | 'messages' } {
  const userDir = path.resolve(ROOT, process.env.NODE_RED_USER_DIR || '.node-red');
  let state: { editor?: string; editors?: string[]; loopback?: string; api?: string } = {};
  try {
    state = JSON.parse(fs.readFileSync(path.join(userDir, 'npm-start.json'), 'utf8'));
  } catch {
    // No npm start is running from that user directory: the defaults, or PORT and LOOPBACK_PORT.
  }
  const editor = process.env.PORT ? `http://127.0.0.1:${process.env.PORT}` : (state.editor ?? 'http://127.0.0.1:1880');
  const loopback = process.env.LOOPBACK_PORT ? `http://127.0.0.1:${process.env.LOOPBACK_PORT}` : (state.loopback ?? 'http://127.0.0.1:1881');
  const source = process.env.PORT || process.env.LOOPBACK_PORT ? 'PORT and LOOPBACK_PORT' : state.editor ? path.join(userDir, 'npm-start.json') : 'the default ports';
  const editors = process.env.PORT ? [editor] : (state.editors ?? [editor]);
  // The API npm start's account speaks (npm start -- --api messages), unless --api says otherwise.
  const i = process.argv.indexOf('--api');
  const api = (i >= 0 ? process.argv[i + 1] : state.api) === 'messages' ? 'messages' : 'sms';
  return { editor, editors, loopback, source, api };
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<number> {
  // Words that are neither an option nor an option's value (--spread takes none).
  const takesValue = (arg: string | undefined) => !!arg && arg.startsWith('--') && arg !== '--spread';
  const words = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !takesValue(all[i - 1]));
  const text = words.join(' ') || 'Hello from my phone';
  const msisdn = option('from', '447700900001');
  const to = option('to', '447700900000');
  const where = addresses();
  // On the Messages API, Vonage POSTs JSON: the tutorial's http in GET /sms never sees it, SMS in does.
  const path_ = option('path', where.api === 'messages' ? '/sms-in' : '/sms');
  const webhook = `${where.editor}${path_}`;
  const spread = process.argv.includes('--spread');
  if (spread && where.editors.length < 2) console.log(`--spread: only one Node-RED instance runs (${where.editor}); start two with npm start -- --redis`);
  const webhooks = spread ? where.editors.map((editor) => `${editor}${path_}`) : [webhook];
  const parts = Math.max(1, Number(option('parts', '1')) || 1);
  const loopback = `${where.loopback}/_loopback`;

  let before: RecordedRequest[];
  try {
    before = (await (await fetch(`${loopback}/requests`)).json()) as RecordedRequest[];
  } catch (err) {
    console.error(
      `could not reach npm start's loopback Vonage API at ${where.loopback} (from ${where.source}): ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}.\n` +
        'Is npm start running? If it runs with another NODE_RED_USER_DIR, set the same one here, or set PORT and LOOPBACK_PORT to its ports.',
    );
    return 1;
  }
  const messages = where.api === 'messages';
  // The Messages API joins a long SMS itself and sends it once; the SMS API sends its parts, here last first.
  const requests = messages ? [undefined] : inboundRequests({ msisdn, to, text }, parts > 1 ? { partLength: Math.ceil(text.length / parts) } : {}).reverse();
  let status = 0;
  const answers: string[] = [];
  for (const [i, params] of requests.entries()) {
    const url = webhooks[i % webhooks.length];
    const delivered = await fetch(`${loopback}/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(params ? { url, params } : { url, messages: { from: msisdn, to, text, parts } }),
    });
    ({ status } = (await delivered.json()) as { status: number });
    answers.push(params ? `part ${params['concat-part'] ?? 1} → GET ${url} answered ${status}` : `Messages API webhook → POST ${url} answered ${status}`);
    if (status !== 200) break;
  }
  const how = requests.length > 1 ? ` in ${requests.length} parts, last first` : messages ? ' (Messages API)' : '';
  if (webhooks.length > 1) console.log(`inbound SMS from ${msisdn} to ${to}: ${JSON.stringify(text)}${how}, spread over ${webhooks.length} instances:\n  ${answers.join('\n  ')}`);
  else console.log(`inbound SMS from ${msisdn} to ${to}: ${JSON.stringify(text)}${how} → ${messages ? 'POST' : 'GET'} ${webhook} answered ${status}`);
  if (status !== 200) return 1;

  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    const now = (await (await fetch(`${loopback}/requests`)).json()) as RecordedRequest[];
    const reply = now.slice(before.length).find((r) => (r.path === '/sms/json' || r.path === '/v1/messages') && r.params.to === msisdn);
    if (reply) {
      console.log(
        `reply recorded by the loopback Vonage API: ${reply.path === '/v1/messages' ? 'Messages API, ' : ''}status ${reply.outcome}, to ${reply.params.to} from ${reply.params.from}: ${JSON.stringify(reply.params.text)}`,
      );
      return reply.outcome === '0' || reply.outcome === 'HTTP 202' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log('no reply reached the loopback Vonage API within 5 s: is the "Reply to an SMS" flow deployed and enabled?');
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`npm run inbound failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
