/**
 * `npm start`: the tutorial, offline. Starts the loopback Vonage SMS API, installs this package
 * into a Node-RED user directory (.node-red/, ignored by git) as the palette manager would,
 * deploys the example flows against the loopback API, and starts Node-RED.
 *
 * Environment: PORT (Node-RED, default 1880), LOOPBACK_PORT (default 1881),
 * NODE_RED_USER_DIR (default .node-red). They apply at every start: the loopback addresses in the
 * flows follow them, and npm-start.json in the user directory tells `npm run inbound` where to go.
 * `npm start -- --reset` rewrites the flows; `--empty` starts with no flows at all (for building the
 * tutorial by hand, as the end-to-end tests do). `--redis` runs two Node-RED instances with the same
 * flows (the second on SECOND_PORT, default PORT + 2) sharing a local redis-server (REDIS_PORT,
 * default LOOPBACK_PORT + 2) through the config node's Shared state, as an HA setup would.
 * `--api messages` switches the account to the Messages API (and `--api sms` back): Send SMS posts to
 * the loopback's /v1/messages, and `npm run inbound` sends Messages API webhooks.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LoopbackVonageSmsApi } from './loopback/vonageSmsApi';
import { PALETTE_INSTALL_FLAGS } from './paletteInstall';
import { redisServerInstalled, REDIS_SERVER, startRedis, type RunningRedis } from './redisServer';

const ROOT = path.join(__dirname, '..');
const USER_DIR = path.resolve(ROOT, process.env.NODE_RED_USER_DIR || '.node-red');
const PORT = Number(process.env.PORT || 1880);
const LOOPBACK_PORT = Number(process.env.LOOPBACK_PORT ?? 1881);
const EMPTY = process.argv.includes('--empty');
const RESET = process.argv.includes('--reset') || EMPTY;
const REDIS = process.argv.includes('--redis');
/** --api messages | sms: the API of the loopback account's config node(s); unset, as the flows have it. */
const API = (() => {
  const i = process.argv.indexOf('--api');
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value !== undefined && value !== 'sms' && value !== 'messages') {
    console.error(`--api takes sms or messages, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return value as 'sms' | 'messages' | undefined;
})();
const SECOND_PORT = Number(process.env.SECOND_PORT || PORT + 2);
const REDIS_PORT = Number(process.env.REDIS_PORT || LOOPBACK_PORT + 2);
/** The second instance of --redis: a user directory of its own inside the first, with the same flows and package. */
const SECOND_USER_DIR = path.join(USER_DIR, 'second-instance');
const MODULE = 'node-red-contrib-vonage-sms';
// The loopback API's demo account: not a Vonage account, and only good on 127.0.0.1.
const LOOPBACK_KEY = 'loopback';
const LOOPBACK_SECRET = 'loopback-secret';

type FlowNode = { id: string; type: string; z?: string; [key: string]: unknown };

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Packs the package and installs the tarball, unless this very tarball is installed already. */
function installPackage(): void {
  fs.mkdirSync(USER_DIR, { recursive: true });
  const userPackage = path.join(USER_DIR, 'package.json');
  if (!fs.existsSync(userPackage)) {
    fs.writeFileSync(userPackage, `${JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 2)}\n`);
  }
  const packDir = path.join(USER_DIR, '.pack');
  fs.rmSync(packDir, { recursive: true, force: true });
  fs.mkdirSync(packDir);
  // --ignore-scripts: `npm start` has built already; prepack would build again.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], ROOT));
  const tarball = path.join(packDir, packed.filename);
  const digest = crypto.createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
  const marker = path.join(USER_DIR, '.installed-package-sha256');
  const installed = path.join(USER_DIR, 'node_modules', MODULE, 'package.json');
  if (fs.existsSync(installed) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === digest) {
    console.log(`${MODULE} is installed in ${USER_DIR} and unchanged`);
    return;
  }
  console.log(`installing ${packed.filename} into ${USER_DIR} as the palette manager does…`);
  npm(['install', ...PALETTE_INSTALL_FLAGS, '--', tarball], USER_DIR);
  fs.writeFileSync(marker, digest);
}

function readExample(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', `${name}.json`), 'utf8'));
}

/**
 * The examples on tabs of their own, with one shared nexmobasic aimed at the loopback API.
 * Receive an SMS and Reply to an SMS both serve GET /sms, so Receive's tab starts disabled.
 */
function tutorialFlows(restHost: string): { flows: FlowNode[]; credentials: Record<string, unknown> } {
  const config: FlowNode = { id: 'a1b2c3d4e5f60001', type: 'nexmobasic', name: 'Loopback Vonage API', resthost: restHost, country: 'GB', timeout: 10 };
  const tabs: Array<[string, string, boolean, string]> = [
    ['a1b2c3d4e5f60010', 'Send an SMS', false, 'Click the inject button: the SMS goes to the loopback Vonage API, and its response shows in the debug sidebar.'],
    ['a1b2c3d4e5f60020', 'Reply to an SMS', false, 'Run `npm run inbound -- "Hello"` in a terminal: the loopback API delivers an inbound SMS to GET /sms and records the reply.'],
    ['a1b2c3d4e5f60030', 'Receive an SMS', true, 'Disabled because Reply to an SMS serves GET /sms too: enable this tab (and disable the other) to try it.'],
    ['a1b2c3d4e5f60040', 'Auto-reply with SMS in', false, 'SMS in serves /sms-in here (Reply to an SMS has /sms): `npm run inbound -- --path /sms-in --parts 3 "a long message…"`.'],
    ['a1b2c3d4e5f60050', 'Track delivery receipts', false, 'Click the inject button: the loopback API accepts the SMS and, a moment later, sends its delivery receipt to the SMS receipt node.'],
    [
      'a1b2c3d4e5f60060',
      'Honour opt-outs',
      false,
      'SMS in serves /sms-stop here: `npm run inbound -- --path /sms-stop --from 447700900001 STOP`, then click "Text +447700900001": nothing is sent, and the debug sidebar says why. START undoes it.',
    ],
  ];
  // The confirmations of STOP and START that the opt-out example's comment suggests.
  Object.assign(config, {
    optout: true,
    stopreply: 'You will get no more SMS from us. Reply START to get them again.',
    startreply: 'Welcome back: you will get our SMS again. Reply STOP to stop them.',
  });
  const flows: FlowNode[] = [config];
  // Ids of their own, so that importing an example later adds nodes rather than finding them present.
  const ownId = (id: string) => crypto.createHash('sha256').update(`npm start ${id}`).digest('hex').slice(0, 16);
  for (const [tabId, name, disabled, info] of tabs) {
    flows.push({ id: tabId, type: 'tab', label: name, disabled, info });
    for (const node of readExample(name)) {
      if (node.type === 'nexmobasic') continue;
      const wires = (node.wires as string[][] | undefined)?.map((port) => port.map(ownId));
      const copy: FlowNode = { ...node, id: ownId(node.id), z: tabId, ...(wires ? { wires } : {}) };
      if (copy.type === 'sendsms') copy.creds = config.id;
      if (copy.type === 'vonage-sms-in') copy.url = name === 'Honour opt-outs' ? '/sms-stop' : '/sms-in';
      if (copy.type === 'vonage-optout') copy.creds = config.id;
      // Receipts come back to this Node-RED's own SMS receipt node (the example itself leaves the URL empty).
      if (copy.type === 'sendsms' && name === 'Track delivery receipts') copy.callback = `http://127.0.0.1:${PORT}/sms/receipt`;
      flows.push(copy);
    }
  }
  return { flows, credentials: { [config.id]: { apikey: LOOPBACK_KEY, apisecret: LOOPBACK_SECRET } } };
}

function settingsFor(port: number): string {
  return `// Written by npm start. The loopback Vonage API's demo credentials are stored unencrypted.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false },
    // No first-run consent dialog, and nothing sent off this machine.
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'info' } }
};
`;
}

function writeUserDir(restHost: string, redisUrl: string | undefined): void {
  fs.writeFileSync(path.join(USER_DIR, 'settings.js'), settingsFor(PORT));
  const flowFile = path.join(USER_DIR, 'flows.json');
  if (!fs.existsSync(flowFile) || RESET) {
    const { flows, credentials } = EMPTY ? { flows: [], credentials: {} } : tutorialFlows(restHost);
    fs.writeFileSync(flowFile, `${JSON.stringify(flows, null, 4)}\n`);
    fs.writeFileSync(path.join(USER_DIR, 'flows_cred.json'), `${JSON.stringify(credentials, null, 4)}\n`);
    console.log(EMPTY ? 'started with no flows' : `deployed the tutorial's flows against the loopback Vonage API (${restHost})`);
  } else {
    const flows = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as FlowNode[];
    const moved = retarget(flows, restHost);
    if (moved) {
      fs.writeFileSync(flowFile, `${JSON.stringify(flows, null, 4)}\n`);
      console.log(`pointed ${moved} node(s) of the flows at this start's addresses (${restHost}, http://127.0.0.1:${PORT})`);
    }
  }
  shareState(redisUrl);
  if (API) switchApi(API);
}

/** The loopback account's config node(s) speak this API (its host is the loopback either way). */
function switchApi(api: 'sms' | 'messages'): void {
  const flowFile = path.join(USER_DIR, 'flows.json');
  const flows = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as FlowNode[];
  const credentials = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'flows_cred.json'), 'utf8')) as Record<string, Record<string, string>>;
  let changed = 0;
  for (const node of flows) {
    if (node.type !== 'nexmobasic' || credentials[node.id]?.apikey !== LOOPBACK_KEY || (node.api ?? 'sms') === api) continue;
    node.api = api;
    changed += 1;
  }
  if (changed) {
    fs.writeFileSync(flowFile, `${JSON.stringify(flows, null, 4)}\n`);
    console.log(`switched ${changed} config node(s) to the ${api === 'messages' ? 'Messages' : 'SMS'} API`);
  }
}

/** The API the loopback account's config node speaks now, for npm run inbound. */
function currentApi(): 'sms' | 'messages' {
  try {
    const flows = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'flows.json'), 'utf8')) as FlowNode[];
    return flows.some((node) => node.type === 'nexmobasic' && node.api === 'messages') ? 'messages' : 'sms';
  } catch {
    return 'sms';
  }
}

/**
 * With --redis, the loopback account's config node(s) get this start's local Redis as Shared state;
 * without, a local Redis an earlier --redis start set is taken out again. Other URLs are the user's.
 */
function shareState(redisUrl: string | undefined): void {
  const flows = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'flows.json'), 'utf8')) as FlowNode[];
  const credFile = path.join(USER_DIR, 'flows_cred.json');
  const credentials = JSON.parse(fs.readFileSync(credFile, 'utf8')) as Record<string, Record<string, string>>;
  let changed = false;
  for (const node of flows) {
    const creds = credentials[node.id];
    if (node.type !== 'nexmobasic' || !creds || creds.apikey !== LOOPBACK_KEY) continue;
    const local = !creds.redisurl || /^redis:\/\/127\.0\.0\.1:\d+\/0$/.test(creds.redisurl);
    if (!local || creds.redisurl === redisUrl) continue;
    if (redisUrl) creds.redisurl = redisUrl;
    else delete creds.redisurl;
    changed = true;
  }
  if (changed) fs.writeFileSync(credFile, `${JSON.stringify(credentials, null, 4)}\n`);
}

/** The second instance: the same package, flows and credentials, its own port and runtime files. */
function writeSecondUserDir(): void {
  fs.mkdirSync(SECOND_USER_DIR, { recursive: true });
  const modules = path.join(SECOND_USER_DIR, 'node_modules');
  if (!fs.existsSync(modules)) fs.symlinkSync(path.join(USER_DIR, 'node_modules'), modules, 'dir');
  fs.copyFileSync(path.join(USER_DIR, 'package.json'), path.join(SECOND_USER_DIR, 'package.json'));
  for (const file of ['flows.json', 'flows_cred.json']) fs.copyFileSync(path.join(USER_DIR, file), path.join(SECOND_USER_DIR, file));
  fs.writeFileSync(path.join(SECOND_USER_DIR, 'settings.js'), settingsFor(SECOND_PORT));
}

/** A loopback address a previous npm start wrote into the flows. */
const LOOPBACK_ADDRESS = /^http:\/\/127\.0\.0\.1:\d+/;

/**
 * The flows name the loopback API (API host) and Node-RED itself (Receipt URL) by port: settings given
 * to this start apply to flows an earlier start wrote, and to any the user built against them. Other
 * hosts (the real Vonage API, the user's own) are left alone.
 */
function retarget(flows: FlowNode[], restHost: string): number {
  let moved = 0;
  for (const node of flows) {
    const field = node.type === 'nexmobasic' ? 'resthost' : node.type === 'sendsms' ? 'callback' : undefined;
    const value = field ? node[field] : undefined;
    if (!field || typeof value !== 'string' || !LOOPBACK_ADDRESS.test(value)) continue;
    const next = field === 'resthost' ? restHost : value.replace(LOOPBACK_ADDRESS, `http://127.0.0.1:${PORT}`);
    if (next !== value) {
      node[field] = next;
      moved += 1;
    }
  }
  return moved;
}

/** Where this npm start runs, for `npm run inbound` (dev/inbound.ts) to find without being told. */
const START_STATE = 'npm-start.json';

async function main(): Promise<void> {
  const api = new LoopbackVonageSmsApi([{ apiKey: LOOPBACK_KEY, apiSecret: LOOPBACK_SECRET, balance: 10 }]);
  api.autoReceipts = true;
  api.onReceipt = (url, receipt, status) =>
    console.log(
      `[loopback Vonage API] delivery receipt "${receipt.status}" for ${receipt.messageId ?? receipt.message_uuid} (client-ref ${receipt['client-ref'] ?? receipt.client_ref ?? 'none'}) → POST ${url} answered ${status}`,
    );
  const restHost = await api.listen(LOOPBACK_PORT);
  let redis: RunningRedis | undefined;
  if (REDIS) {
    if (!redisServerInstalled()) {
      console.error(`npm start -- --redis needs ${REDIS_SERVER}, which is not on this machine: install Debian's (sudo apt-get install redis-server), or set REDIS_SERVER to another.`);
      await api.close();
      process.exit(1);
    }
    redis = await startRedis({ port: REDIS_PORT });
    console.log(`started redis-server on 127.0.0.1:${REDIS_PORT} (no persistence), shared by both Node-RED instances`);
  }
  installPackage();
  writeUserDir(restHost, redis?.url);
  if (REDIS) writeSecondUserDir();

  // Say what the loopback API receives, so the terminal shows each SMS as Vonage would have sent it.
  let reported = 0;
  const reporter = setInterval(() => {
    for (const request of api.requests.slice(reported)) {
      const p = request.params;
      console.log(`[loopback Vonage API] ${request.method} ${request.path} → status ${request.outcome}: SMS to ${p.to} from ${p.from}: ${JSON.stringify(p.text)}`);
    }
    reported = api.requests.length;
  }, 200);

  const state = path.join(USER_DIR, START_STATE);
  const editors = [`http://127.0.0.1:${PORT}`, ...(REDIS ? [`http://127.0.0.1:${SECOND_PORT}`] : [])];
  const flowsApi = currentApi();
  fs.writeFileSync(state, `${JSON.stringify({ editor: editors[0], editors, loopback: restHost, api: flowsApi, redis: redis ? `127.0.0.1:${REDIS_PORT}` : undefined, pid: process.pid }, null, 2)}\n`);

  const redJs = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  const startNodeRed = (userDir: string) => spawn(process.execPath, [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: 'inherit' });
  const instances = [startNodeRed(USER_DIR), ...(REDIS ? [startNodeRed(SECOND_USER_DIR)] : [])];
  console.log(`
  Node-RED editor:        ${editors[0]}/${REDIS ? `\n  second instance:        ${editors[1]}/  (the same flows; deploy on the first, then npm start again)\n  shared state:           redis-server on 127.0.0.1:${REDIS_PORT}` : ''}
  loopback Vonage API:    ${restHost}  (no Vonage account needed)
  send an SMS:            click the inject button on the "Send an SMS" tab
  receive and reply:      npm run inbound -- "Hello"${flowsApi === 'messages' ? '   (Messages API: its JSON webhook, to SMS in on /sms-in)' : ''}
  with SMS in, in parts:  npm run inbound -- --path /sms-in --parts 3 ${REDIS ? '--spread ' : ''}"a long message, in three parts"
  delivery receipts:      click the inject button on the "Track delivery receipts" tab
  opt-outs:               npm run inbound -- --path /sms-stop --from 447700900001 STOP
`);

  const stop = () => {
    clearInterval(reporter);
    for (const nodeRed of instances) nodeRed.kill('SIGINT');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // When one instance ends, so does the other, then Redis and the loopback API.
  let exitCode: number | null = null;
  const closeAll = async () => {
    fs.rmSync(state, { force: true });
    await redis?.stop();
    await api.close();
  };
  for (const nodeRed of instances) {
    nodeRed.on('exit', (code) => {
      exitCode ??= code;
      stop();
      if (instances.some((other) => other.exitCode === null && other.signalCode === null)) return;
      closeAll().then(
        () => process.exit(exitCode ?? 0),
        (err: unknown) => {
          console.error(err instanceof Error ? err.message : err);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
