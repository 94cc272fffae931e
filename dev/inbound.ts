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
 * default .node-red); PORT and LOOPBACK_PORT, when set, name the ports instead. `--help` prints the
 * usage and sends nothing; an option it does not know is refused with the usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RecordedRequest } from './loopback/vonageSmsApi';
import { inboundRequests } from './loopback/webhooks';

const ROOT = path.join(__dirname, '..');

const USAGE = `Usage: npm run inbound -- [options] [text]

While npm start runs, has its loopback Vonage API deliver an inbound SMS to Node-RED, as Vonage would,
and prints the reply the flows sent back. The text defaults to "Hello from my phone".

Options:
  --from N          the sender's number (default 447700900001)
  --to N            your Vonage number (default 447700900000)
  --path P          the webhook (default /sms; /sms-in when npm start runs the Messages API)
  --parts N         send the text as a long SMS in N parts, last part first
  --spread          with npm start -- --redis: the parts go to the two Node-RED instances in turn
  --api sms|messages  the SMS API's GET webhook or the Messages API's JSON POST (default: npm start's)
  --help            print this and send nothing

A text that starts with -- goes after a lone --: npm run inbound -- -- "--not an option".
Environment: NODE_RED_USER_DIR (where npm start runs), or PORT and LOOPBACK_PORT (its ports).`;

function refuse(reason: string): never {
  console.error(`npm run inbound: ${reason}\n\n${USAGE}`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        path: { type: 'string' },
        parts: { type: 'string' },
        spread: { type: 'boolean' },
        api: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return refuse((err as Error).message);
  }
}

const { values: OPTIONS, positionals: WORDS } = parseOptions();
if (OPTIONS.help) {
  console.log(USAGE);
  process.exit(0);
}
if (OPTIONS.api !== undefined && OPTIONS.api !== 'sms' && OPTIONS.api !== 'messages') refuse(`--api takes sms or messages, not ${JSON.stringify(OPTIONS.api)}.`);
if (OPTIONS.parts !== undefined && !(Number.isInteger(Number(OPTIONS.parts)) && Number(OPTIONS.parts) >= 1)) refuse(`--parts takes a whole number of parts, 1 or more, not ${JSON.stringify(OPTIONS.parts)}.`);
if (OPTIONS.path !== undefined && !OPTIONS.path.startsWith('/')) refuse(`--path takes a path that starts with /, such as /sms-in, not ${JSON.stringify(OPTIONS.path)}.`);

/** Node-RED's and the loopback API's addresses: PORT / LOOPBACK_PORT, else what npm start wrote, else the defaults. */
function addresses(): { editor: string; editors: string[]; loopback: string; source: string; api: 'sms' | 'messages'; flows?: string } {
  const userDir = path.resolve(ROOT, process.env.NODE_RED_USER_DIR || '.node-red');
  let state: { editor?: string; editors?: string[]; loopback?: string; api?: string; flows?: string } = {};
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
  const api = (OPTIONS.api ?? state.api) === 'messages' ? 'messages' : 'sms';
  return { editor, editors, loopback, source, api, flows: state.flows };
}

async function main(): Promise<number> {
  const text = WORDS.join(' ') || 'Hello from my phone';
  const msisdn = OPTIONS.from || '447700900001';
  const to = OPTIONS.to || '447700900000';
  const where = addresses();
  // On the Messages API, Vonage POSTs JSON: the tutorial's http in GET /sms never sees it, SMS in does.
  const path_ = OPTIONS.path ?? (where.api === 'messages' ? '/sms-in' : '/sms');
  const webhook = `${where.editor}${path_}`;
  const spread = OPTIONS.spread === true;
  if (spread && where.editors.length < 2) console.log(`--spread: only one Node-RED instance runs (${where.editor}); start two with npm start -- --redis`);
  const webhooks = spread ? where.editors.map((editor) => `${editor}${path_}`) : [webhook];
  const parts = Number(OPTIONS.parts ?? 1);
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
  if (status === 404) console.error(notServed(where, messages ? 'POST' : 'GET', path_));
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

/** Why nothing may serve the webhook, from what npm start says it runs. */
function notServed(where: ReturnType<typeof addresses>, method: string, webhook: string): string {
  const said = `Node-RED at ${where.editor} answered 404: no deployed flow serves ${method} ${webhook}.`;
  if (where.flows === 'empty') return `${said} npm start runs with no flows (--empty): deploy a flow that serves it, or run npm start without --empty for the tutorial's flows.`;
  const served =
    where.api === 'messages'
      ? 'On the Messages API (npm start -- --api messages), the tutorial serves POST /sms-in (SMS in) and /sms-stop; the GET /sms flows never see its JSON webhook.'
      : 'On the SMS API, the tutorial serves GET /sms (Reply to an SMS), /sms-in (SMS in) and /sms-stop.';
  const yours = where.flows === 'yours' ? ' npm start runs your own flows: is the flow that serves it deployed, and its tab enabled?' : '';
  return `${said} ${served}${yours} --path names another webhook, --api the other API.`;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`npm run inbound failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
