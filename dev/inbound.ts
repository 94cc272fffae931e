/**
 * `npm run inbound -- "Hello"`: while `npm start` runs, has the loopback Vonage API deliver an
 * inbound SMS to Node-RED's GET /sms webhook, as Vonage would, then prints the reply the
 * "Reply to an SMS" flow sent back through the loopback API.
 *
 * Options: --from 447700900001 (the sender's number), --to 447700900000 (your Vonage number),
 * --path /sms (the webhook), --parts N (send the text as a long SMS in N parts, last part first).
 * Environment: PORT (Node-RED, default 1880), LOOPBACK_PORT (default 1881).
 */
import type { RecordedRequest } from './loopback/vonageSmsApi';
import { inboundRequests } from './loopback/webhooks';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<number> {
  const words = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const text = words.join(' ') || 'Hello from my phone';
  const msisdn = option('from', '447700900001');
  const to = option('to', '447700900000');
  const webhook = `http://127.0.0.1:${process.env.PORT || 1880}${option('path', '/sms')}`;
  const parts = Math.max(1, Number(option('parts', '1')) || 1);
  const loopback = `http://127.0.0.1:${process.env.LOOPBACK_PORT || 1881}/_loopback`;

  const before = (await (await fetch(`${loopback}/requests`)).json()) as RecordedRequest[];
  const requests = inboundRequests({ msisdn, to, text }, parts > 1 ? { partLength: Math.ceil(text.length / parts) } : {}).reverse();
  let status = 0;
  for (const params of requests) {
    const delivered = await fetch(`${loopback}/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: webhook, params }),
    });
    ({ status } = (await delivered.json()) as { status: number });
    if (status !== 200) break;
  }
  const how = requests.length > 1 ? ` in ${requests.length} parts, last first` : '';
  console.log(`inbound SMS from ${msisdn} to ${to}: ${JSON.stringify(text)}${how} → GET ${webhook} answered ${status}`);
  if (status !== 200) return 1;

  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    const now = (await (await fetch(`${loopback}/requests`)).json()) as RecordedRequest[];
    const reply = now.slice(before.length).find((r) => r.path === '/sms/json' && r.params.to === msisdn);
    if (reply) {
      console.log(`reply recorded by the loopback Vonage API: status ${reply.outcome}, to ${reply.params.to} from ${reply.params.from}: ${JSON.stringify(reply.params.text)}`);
      return reply.outcome === '0' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log('no reply reached the loopback Vonage API within 5 s: is the "Reply to an SMS" flow deployed and enabled?');
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`could not reach npm start's loopback Vonage API or Node-RED: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
