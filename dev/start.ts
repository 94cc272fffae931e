/**
 * `npm start`: the tutorial, offline. Starts the loopback Vonage SMS API, installs this package
 * into a Node-RED user directory (.node-red/, ignored by git) as the palette manager would,
 * deploys the example flows against the loopback API, and starts Node-RED 5 (dev/node-red-5, installed
 * when missing) on a Node.js that runs it and the package: this one from 22.12 on, else Node.js 24 from
 * the npm registry (dev/nodeRed5.js). `npm start -- --help` lists the options; any other word is refused
 * with the usage.
 *
 * Each start uses exactly the options it is given, none carries over: `--empty` starts with no flows
 * (for building the tutorial by hand, as the end-to-end tests do), `--api messages` runs the loopback
 * account on the Messages API (the SMS API otherwise). Flows npm start wrote are written again at every
 * start; flows the user built or changed (told apart by FLOWS_MARK) are kept, and saved to a backup file
 * that the banner names before `--reset` or `--empty` replaces them. `--redis` runs two Node-RED
 * instances with the same flows (the second on SECOND_PORT, default PORT + 2) sharing a local
 * redis-server (REDIS_PORT, default LOOPBACK_PORT + 2) through the config node's Shared state, as an HA
 * setup would.
 *
 * Environment: PORT (Node-RED, default 1880; or --port), LOOPBACK_PORT (default 1881; or
 * --loopback-port), NODE_RED_USER_DIR (default .node-red). They apply at every start: the loopback
 * addresses in the flows follow them, and npm-start.json in the user directory tells `npm run inbound`
 * where to go. A port already taken (most often by an npm start that runs) is refused before anything is
 * written, with a sentence that says which.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LoopbackVonageSmsApi } from './loopback/vonageSmsApi';
import { NODE_RED_5_PACKAGE, installNodeRed5, nodeForNodeRed5, nodeVersion, packageVersion } from './nodeRed5';
import { npm, PALETTE_INSTALL_FLAGS } from './paletteInstall';
import { redisServerInstalled, REDIS_SERVER, startRedis, type RunningRedis } from './redisServer';

const USAGE = `Usage: npm start [-- options]

Runs the tutorial offline: a loopback Vonage API (no Vonage account needed) and Node-RED with the
tutorial's flows. Each start uses exactly the options it is given: none carries over to the next.

Options:
  --empty               start with no flows, to build the tutorial by hand
  --reset               put the tutorial's flows back over flows you changed
                        (with --empty or --reset, flows you changed are first saved to a backup file)
  --api sms|messages    the API the loopback account speaks (default: sms)
  --redis               two Node-RED instances sharing a local redis-server (needs redis-server)
  --port N              Node-RED's port (default: PORT, else 1880)
  --loopback-port N     the loopback Vonage API's port (default: LOOPBACK_PORT, else 1881)
  --help                print this and do nothing else

Environment: PORT, LOOPBACK_PORT, SECOND_PORT (the second instance of --redis, default port + 2),
REDIS_PORT (default loopback port + 2), NODE_RED_USER_DIR (default .node-red).
Then, in another terminal: npm run inbound -- --help`;

/** Says why, prints the usage, and exits 2, as for any command line this start does not take. */
function refuse(reason: string): never {
  console.error(`npm start: ${reason}\n\n${USAGE}`);
  process.exit(2);
}

function parseOptions() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        empty: { type: 'boolean' },
        reset: { type: 'boolean' },
        redis: { type: 'boolean' },
        api: { type: 'string', multiple: true },
        port: { type: 'string' },
        'loopback-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    return refuse((err as Error).message);
  }
}

const OPTIONS = parseOptions();
if (OPTIONS.help) {
  console.log(USAGE);
  process.exit(0);
}

function portOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(`${name} takes a port number from 1 to 65535, not ${JSON.stringify(value)}.`);
  return port;
}

const ROOT = path.join(__dirname, '..');
const USER_DIR = path.resolve(ROOT, process.env.NODE_RED_USER_DIR || '.node-red');
const PORT = portOption(OPTIONS.port ?? process.env.PORT, OPTIONS.port !== undefined ? '--port' : 'PORT', 1880);
const LOOPBACK_PORT = portOption(OPTIONS['loopback-port'] ?? process.env.LOOPBACK_PORT, OPTIONS['loopback-port'] !== undefined ? '--loopback-port' : 'LOOPBACK_PORT', 1881);
const EMPTY = OPTIONS.empty === true;
const RESET = OPTIONS.reset === true;
const REDIS = OPTIONS.redis === true;
/** --api messages | sms: the API of the loopback account's config node(s); sms when not given. */
const API = (() => {
  const values = [...new Set(OPTIONS.api ?? [])];
  if (values.length > 1) refuse(`--api is given twice, as ${values.join(' and ')}: give it once.`);
  const [value] = values;
  if (value !== undefined && value !== 'sms' && value !== 'messages') refuse(`--api takes sms or messages, not ${JSON.stringify(value)}.`);
  return value as 'sms' | 'messages' | undefined;
})();
const SECOND_PORT = portOption(process.env.SECOND_PORT, 'SECOND_PORT', PORT + 2);
const REDIS_PORT = portOption(process.env.REDIS_PORT, 'REDIS_PORT', LOOPBACK_PORT + 2);
/** The ports this start listens on, by what listens there. */
const PORTS: Array<[number, string]> = [
  [PORT, 'Node-RED'],
  [LOOPBACK_PORT, 'the loopback Vonage API'],
  ...(REDIS
    ? ([
        [SECOND_PORT, 'the second Node-RED'],
        [REDIS_PORT, 'redis-server'],
      ] as Array<[number, string]>)
    : []),
];
for (const [i, [port, what]] of PORTS.entries()) {
  const other = PORTS.slice(0, i).find(([p]) => p === port);
  if (other) refuse(`${other[1]} and ${what} would both listen on port ${port}: give them ports of their own.`);
}
/** The second instance of --redis: a user directory of its own inside the first, with the same flows and package. */
const SECOND_USER_DIR = path.join(USER_DIR, 'second-instance');
const MODULE = 'node-red-contrib-vonage-sms';
// The loopback API's demo account: not a Vonage account, and only good on 127.0.0.1.
const LOOPBACK_KEY = 'loopback';
const LOOPBACK_SECRET = 'loopback-secret';

type FlowNode = { id: string; type: string; z?: string; [key: string]: unknown };

/**
 * Packs the package and installs the tarball, unless this very tarball is installed already: with the npm
 * of the Node.js that runs Node-RED, as its palette manager would (--engine-strict judges that one).
 */
function installPackage(node: string): void {
  fs.mkdirSync(USER_DIR, { recursive: true });
  const userPackage = path.join(USER_DIR, 'package.json');
  if (!fs.existsSync(userPackage)) {
    fs.writeFileSync(userPackage, `${JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 2)}\n`);
  }
  const packDir = path.join(USER_DIR, '.pack');
  fs.rmSync(packDir, { recursive: true, force: true });
  fs.mkdirSync(packDir);
  // --ignore-scripts: `npm start` has built already; prepack would build again.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], ROOT, node));
  const tarball = path.join(packDir, packed.filename);
  const digest = crypto.createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
  const marker = path.join(USER_DIR, '.installed-package-sha256');
  const installed = path.join(USER_DIR, 'node_modules', MODULE, 'package.json');
  if (fs.existsSync(installed) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === digest) {
    console.log(`${MODULE} is installed in ${USER_DIR} and unchanged`);
    return;
  }
  console.log(`installing ${packed.filename} into ${USER_DIR} as the palette manager does…`);
  npm(['install', ...PALETTE_INSTALL_FLAGS, '--', tarball], USER_DIR, node);
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

/** What the flow file holds at this start: the tutorial's flows, none (--empty), or flows the user changed. */
type FlowsKind = 'tutorial' | 'empty' | 'yours';
interface Flows {
  kind: FlowsKind;
  file: string;
  /** Where flows the user changed went before --reset or --empty replaced them. */
  backup?: string;
}

/** The digest of the flows npm start last wrote: flows.json with another digest holds flows the user changed. */
const FLOWS_MARK = '.npm-start-flows.sha256';

function flowsDigest(flows: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(flows)).digest('hex');
}

function readFlows(file: string): FlowNode[] | undefined {
  try {
    const flows = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Array.isArray(flows) ? flows : undefined;
  } catch {
    return undefined;
  }
}

/** Whether flows.json holds flows an earlier npm start wrote, unchanged since (rather than flows the user built or changed). */
function writtenByNpmStart(flowFile: string, restHost: string): boolean {
  const flows = readFlows(flowFile);
  if (!flows) return false;
  const mark = path.join(USER_DIR, FLOWS_MARK);
  if (fs.existsSync(mark)) return fs.readFileSync(mark, 'utf8').trim() === flowsDigest(flows);
  // A user directory from before npm start kept a mark: an empty list, or the tutorial's flows as a start wrote them.
  if (flows.length === 0) return true;
  const copy = structuredClone(flows);
  retarget(copy, restHost);
  for (const node of copy) if (node.type === 'nexmobasic') delete node.api;
  return JSON.stringify(copy) === JSON.stringify(tutorialFlows(restHost).flows);
}

/** Copies flows.json (and its credentials) to files named by the time, before they are replaced. */
function backUpFlows(): string {
  const stamp = new Date().toISOString().replace(/\..*$/, '').replace(/:/g, '-');
  const backup = path.join(USER_DIR, `flows.backup-${stamp}.json`);
  fs.copyFileSync(path.join(USER_DIR, 'flows.json'), backup);
  const credFile = path.join(USER_DIR, 'flows_cred.json');
  if (fs.existsSync(credFile)) fs.copyFileSync(credFile, path.join(USER_DIR, `flows_cred.backup-${stamp}.json`));
  return backup;
}

/**
 * Each start deploys what its options ask for: the tutorial's flows, or none with --empty. Flows the user
 * built or changed are kept by a start with neither --empty nor --reset, and saved to a backup file
 * before either replaces them.
 */
function writeUserDir(restHost: string, redisUrl: string | undefined): Flows {
  fs.writeFileSync(path.join(USER_DIR, 'settings.js'), settingsFor(PORT));
  const flowFile = path.join(USER_DIR, 'flows.json');
  const ours = !fs.existsSync(flowFile) || writtenByNpmStart(flowFile, restHost);
  let result: Flows;
  if (!ours && !EMPTY && !RESET) {
    result = { kind: 'yours', file: flowFile };
    const flows = readFlows(flowFile);
    const moved = flows ? retarget(flows, restHost) : 0;
    if (flows && moved) {
      fs.writeFileSync(flowFile, `${JSON.stringify(flows, null, 4)}\n`);
      console.log(`pointed ${moved} node(s) of your flows at this start's addresses (${restHost}, http://127.0.0.1:${PORT})`);
    }
    if (!flows) console.log(`${flowFile} is not a list of flows: Node-RED will say why; npm start -- --reset saves it to a backup file and deploys the tutorial's flows`);
  } else {
    const backup = ours ? undefined : backUpFlows();
    if (backup) console.log(`saved your flows to ${backup} before replacing them`);
    const { flows, credentials } = EMPTY ? { flows: [], credentials: {} } : tutorialFlows(restHost);
    fs.writeFileSync(flowFile, `${JSON.stringify(flows, null, 4)}\n`);
    fs.writeFileSync(path.join(USER_DIR, 'flows_cred.json'), `${JSON.stringify(credentials, null, 4)}\n`);
    console.log(EMPTY ? 'started with no flows' : `deployed the tutorial's flows against the loopback Vonage API (${restHost})`);
    result = { kind: EMPTY ? 'empty' : 'tutorial', file: flowFile, backup };
  }
  shareState(redisUrl);
  if (API) switchApi(API);
  // What npm start wrote, to tell at the next start from flows the user changed.
  if (result.kind !== 'yours') fs.writeFileSync(path.join(USER_DIR, FLOWS_MARK), `${flowsDigest(readFlows(flowFile))}\n`);
  return result;
}

/** The loopback account's config node(s) speak this API (its host is the loopback either way). */
function switchApi(api: 'sms' | 'messages'): void {
  const flowFile = path.join(USER_DIR, 'flows.json');
  const flows = readFlows(flowFile);
  if (!flows) return;
  const credentials = readCredentials();
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

/** flows_cred.json as npm start writes it (credentialSecret false): none when missing or unreadable. */
function readCredentials(): Record<string, Record<string, string>> {
  try {
    return JSON.parse(fs.readFileSync(path.join(USER_DIR, 'flows_cred.json'), 'utf8'));
  } catch {
    return {};
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
  const flows = readFlows(path.join(USER_DIR, 'flows.json'));
  if (!flows) return;
  const credFile = path.join(USER_DIR, 'flows_cred.json');
  const credentials = readCredentials();
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

/** Whether something listens on 127.0.0.1:port already. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** The npm start running from this user directory, if any: its process id and ports, from its npm-start.json. */
function runningStart(): { pid: number; ports: number[] } | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(USER_DIR, START_STATE), 'utf8')) as { pid?: number; editors?: string[]; loopback?: string; redis?: string };
    if (typeof state.pid !== 'number' || state.pid === process.pid) return undefined;
    process.kill(state.pid, 0); // throws when no such process runs
    const ports = [...(state.editors ?? []), state.loopback ?? '', state.redis ?? ''].map((address) => Number(/:(\d+)\/?$/.exec(address)?.[1]));
    return { pid: state.pid, ports };
  } catch {
    return undefined;
  }
}

/** Before anything is written: a port this start needs is taken, most likely by an npm start that runs already. */
async function refuseTakenPorts(): Promise<void> {
  for (const [port, what] of PORTS) {
    if (!(await portTaken(port))) continue;
    const other = runningStart();
    const who =
      other && other.ports.includes(port)
        ? `another npm start is running on it (process ${other.pid}, from ${path.join(USER_DIR, START_STATE)}). Stop that one (Ctrl+C in its terminal, or kill ${other.pid})`
        : 'another npm start may be running on it (from another user directory), or another program. Stop that one';
    const others = `npm start -- --port ${PORT + 10} --loopback-port ${LOOPBACK_PORT + 10}${REDIS ? ` --redis (and SECOND_PORT, REDIS_PORT for the second instance and redis-server)` : ''}`;
    console.error(`npm start: port ${port} on 127.0.0.1, for ${what}, is taken: ${who}, or start this one on other ports: ${others}`);
    process.exit(1);
  }
}

/** What runs, for the terminal: the addresses, which Node-RED on which Node.js, the API, the state, the flow file, and what to try. */
function banner(options: { editors: string[]; restHost: string; api: 'sms' | 'messages'; flows: Flows; runtime: string }): string {
  const { editors, restHost, api, flows, runtime } = options;
  const line = (label: string, text: string) => `  ${`${label}:`.padEnd(24)}${text}`;
  const more = (text: string) => `  ${''.padEnd(24)}${text}`;
  const lines = [
    line('Node-RED editor', `${editors[0]}/`),
    line('runs', runtime),
    ...(REDIS ? [line('second instance', `${editors[1]}/  (the same flows; deploy on the first, then npm start -- --redis again)`)] : []),
    line('loopback Vonage API', `${restHost}  (no Vonage account needed: API key ${LOOPBACK_KEY}, secret ${LOOPBACK_SECRET})`),
    line('API', api === 'messages' ? 'the Messages API  (npm start without --api messages for the SMS API)' : 'the SMS API  (npm start -- --api messages for the Messages API)'),
    line('state', REDIS ? `shared by both instances in redis-server on 127.0.0.1:${REDIS_PORT} (no persistence)` : 'in memory, one Node-RED instance  (npm start -- --redis for two sharing a redis-server)'),
  ];
  if (flows.kind === 'tutorial') lines.push(line('flow file', `${flows.file}: the tutorial's flows (six of the eight examples; "Receive an SMS" starts disabled)`));
  if (flows.kind === 'empty') lines.push(line('flow file', `${flows.file}: no flows (--empty)`));
  if (flows.kind === 'yours') {
    lines.push(line('flow file', `${flows.file}: your flows (changed since npm start wrote them), kept`));
    lines.push(more("npm start -- --reset deploys the tutorial's flows again, saving yours to a backup file first"));
  }
  if (flows.backup) {
    lines.push(line('your earlier flows', `saved to ${flows.backup}`));
    lines.push(more('to get them back: stop npm start, copy that file over flows.json, and npm start'));
  }
  const inbound = `npm run inbound -- "Hello"${api === 'messages' ? '   (Messages API: its JSON webhook, POST /sms-in)' : '   (GET /sms)'}`;
  if (flows.kind === 'tutorial') {
    lines.push(
      line('send an SMS', 'click the inject button on the "Send an SMS" tab'),
      line('receive and reply', `${inbound.replace('(Messages API: its JSON webhook, POST /sms-in)', '(Messages API: its JSON webhook, to SMS in on /sms-in)')}`),
      line('with SMS in, in parts', `npm run inbound -- --path /sms-in --parts 3 ${REDIS ? '--spread ' : ''}"a long message, in three parts"`),
      line('delivery receipts', 'click the inject button on the "Track delivery receipts" tab'),
      line('opt-outs', 'npm run inbound -- --path /sms-stop --from 447700900001 STOP'),
    );
  } else if (flows.kind === 'empty') {
    lines.push(
      line('what to do', `build the tutorial by hand (docs/tutorial.md, "The tutorial, step by step") in the editor:`),
      more(`in the config node, set API host to ${restHost}, API Key to ${LOOPBACK_KEY} and API Secret to ${LOOPBACK_SECRET}${api === 'messages' ? ', and API to Messages API' : ''};`),
      more('Deploy, then send yourself an SMS below. A plain npm start keeps what you built;'),
      more('npm start -- --empty again starts over (saving it to a backup file first).'),
      line('receive and reply', `${inbound}, once a flow of yours serves it`),
    );
  } else {
    lines.push(line('receive and reply', `${inbound}; --path names another webhook`));
  }
  return `\n${lines.join('\n')}\n`;
}

/**
 * Node-RED 5 and a Node.js that runs it: this one when it can, else one fetched from the npm registry
 * (dev/nodeRed5.js); Node-RED 5 is installed into dev/node-red-5 when missing, as npm test does.
 */
function nodeRed5(): { node: string; redJs: string; runtime: string } {
  let node: string;
  try {
    node = nodeForNodeRed5();
  } catch (err) {
    console.error(`npm start: Node-RED 5 and this package need Node.js 22.12 or newer, and this is ${process.version}: ${(err as Error).message}`);
    process.exit(1);
  }
  if (!installNodeRed5(node)) {
    console.error('npm start: Node-RED 5 could not be installed into dev/node-red-5 (npm ci there failed: its output is above)');
    process.exit(1);
  }
  return { node, redJs: path.join(NODE_RED_5_PACKAGE, 'red.js'), runtime: `Node-RED ${packageVersion(NODE_RED_5_PACKAGE)} on Node.js ${nodeVersion(node)}` };
}

async function main(): Promise<void> {
  await refuseTakenPorts();
  const red = nodeRed5();
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
      console.error(`[redis] npm start -- --redis needs ${REDIS_SERVER}, which is not on this machine: install Debian's (sudo apt-get install redis-server), or set REDIS_SERVER to another.`);
      await api.close();
      process.exit(1);
    }
    redis = await startRedis({ port: REDIS_PORT });
    console.log(`[redis] started redis-server on 127.0.0.1:${REDIS_PORT} (no persistence), shared by both Node-RED instances`);
  }
  installPackage(red.node);
  const flows = writeUserDir(restHost, redis?.url);
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
  // With --empty, --api messages tells npm run inbound to send the Messages API's webhooks to the flows the user builds.
  const flowsApi = API ?? currentApi();
  fs.writeFileSync(state, `${JSON.stringify({ editor: editors[0], editors, loopback: restHost, api: flowsApi, flows: flows.kind, redis: redis ? `127.0.0.1:${REDIS_PORT}` : undefined, pid: process.pid }, null, 2)}\n`);

  const startNodeRed = (userDir: string) => spawn(red.node, [red.redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: 'inherit' });
  const instances = [startNodeRed(USER_DIR), ...(REDIS ? [startNodeRed(SECOND_USER_DIR)] : [])];
  console.log(banner({ editors, restHost, api: flowsApi, flows, runtime: red.runtime }));

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
