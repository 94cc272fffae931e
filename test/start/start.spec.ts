/**
 * `npm start` and `npm run inbound`, as a new user runs them: the tutorial end to end, offline,
 * in a user directory of its own, on free ports.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import should from 'should';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { ROOT, startTutorial, TSX, type RunningStart } from '../support/npmStart';

describe('npm start: the tutorial, offline', function () {
  this.timeout(180_000);
  let start: RunningStart;

  before(async () => {
    start = await startTutorial();
  });
  after(() => start.stop());

  it('installs the packed module into its user directory and deploys the tutorial flows against the loopback API', () => {
    should(fs.existsSync(path.join(start.userDir, 'node_modules', 'node-red-contrib-vonage-sms', 'nodes', 'sendsms.js'))).be.true();
    const flows = JSON.parse(fs.readFileSync(path.join(start.userDir, 'flows.json'), 'utf8'));
    should(flows.filter((n: { type: string }) => n.type === 'tab').map((n: { label: string }) => n.label)).eql([
      'Send an SMS',
      'Reply to an SMS',
      'Receive an SMS',
      'Auto-reply with SMS in',
      'Track delivery receipts',
      'Honour opt-outs',
    ]);
    should(flows.find((n: { type: string }) => n.type === 'nexmobasic').resthost).equal(start.loopbackUrl);
  });

  it('sends "Hello World" through the loopback API when the inject button is clicked', async () => {
    const injectId = crypto.createHash('sha256').update('npm start 5e4d1c0a9b8e7f02').digest('hex').slice(0, 16);
    const res = await fetch(`${start.editorUrl}/inject/${injectId}`, { method: 'POST' });
    should(res.status).equal(200);
    await start.waitFor(/\[loopback Vonage API\] POST \/sms\/json → status 0: SMS to 447700900123 from 447700900000: "Hello World"/);
  });

  it('joins a long inbound SMS sent in parts to SMS in, and answers it once', () => {
    const text = 'a long message that arrives in three parts';
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', '--path', '/sms-in', '--parts', '3', text], { cwd: ROOT, env: start.env, encoding: 'utf8' });
    should(inbound.status).equal(0);
    should(inbound.stdout).match(/in 3 parts, last first → GET http:\/\/127\.0\.0\.1:\d+\/sms-in answered 200/);
    should(inbound.stdout).containEql(`reply recorded by the loopback Vonage API: status 0, to 447700900001 from 447700900000: "You said ${text}"`);
  });

  it('delivers the receipt of an SMS sent with a Receipt URL back to SMS receipt', async () => {
    const injectId = crypto.createHash('sha256').update('npm start 9d6e5f4a3b2c1d02').digest('hex').slice(0, 16);
    const before = start.output().length;
    should((await fetch(`${start.editorUrl}/inject/${injectId}`, { method: 'POST' })).status).equal(200);
    await start.waitFor(/POST \/sms\/json → status 0: SMS to 447700900123 from 447700900000: "Hello World"/);
    const flows = JSON.parse(fs.readFileSync(path.join(start.userDir, 'flows.json'), 'utf8'));
    should(flows.find((n: { type: string; callback?: string }) => n.type === 'sendsms' && n.callback).callback).equal(`${start.editorUrl}/sms/receipt`);
    await start.waitFor(new RegExp(`delivery receipt "delivered" for [0-9A-F]{16} \\(client-ref [0-9a-f]{16}\\) → POST ${start.editorUrl}/sms/receipt answered 200`));
    should(start.output().slice(before)).not.match(/\[error\]/);
  });

  it('answers a simulated inbound SMS (npm run inbound) with "You said …", finding npm start on its ports without being told', () => {
    // Only the user directory, as a user who ran `NODE_RED_USER_DIR=… npm start` would: no PORT, no LOOPBACK_PORT.
    const { PORT: _port, LOOPBACK_PORT: _loopbackPort, ...env } = start.env;
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', 'Is', 'it', 'working?'], { cwd: ROOT, env, encoding: 'utf8' });
    should(inbound.status).equal(0);
    should(inbound.stdout).match(/inbound SMS from 447700900001 to 447700900000: "Is it working\?" → GET http:\/\/127\.0\.0\.1:\d+\/sms answered 200/);
    should(inbound.stdout).match(/reply recorded by the loopback Vonage API: status 0, to 447700900001 from 447700900000: "You said Is it working\?"/);
  });

  it('applies PORT and LOOPBACK_PORT on a second start too: the flows follow, and a send reaches the new loopback API', async () => {
    await start.stop({ keepUserDir: true });
    start = await startTutorial([], start.userDir);
    const flows = JSON.parse(fs.readFileSync(path.join(start.userDir, 'flows.json'), 'utf8'));
    should(flows.find((n: { type: string }) => n.type === 'nexmobasic').resthost).equal(start.loopbackUrl);
    should(flows.find((n: { type: string; callback?: string }) => n.type === 'sendsms' && n.callback).callback).equal(`${start.editorUrl}/sms/receipt`);
    // The tutorial's flows, unchanged since the first start wrote them, are written again for this one.
    should(start.output()).containEql(`deployed the tutorial's flows against the loopback Vonage API (${start.loopbackUrl})`);
    const injectId = crypto.createHash('sha256').update('npm start 5e4d1c0a9b8e7f02').digest('hex').slice(0, 16);
    should((await fetch(`${start.editorUrl}/inject/${injectId}`, { method: 'POST' })).status).equal(200);
    await start.waitFor(/\[loopback Vonage API\] POST \/sms\/json → status 0: SMS to 447700900123 from 447700900000: "Hello World"/);
    const { PORT: _port, LOOPBACK_PORT: _loopbackPort, ...env } = start.env;
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', 'Second', 'start'], { cwd: ROOT, env, encoding: 'utf8' });
    should(inbound.stdout).containEql('"You said Second start"');
  });

  it('runs the tutorial on the Messages API with --api messages: sends to /v1/messages, and npm run inbound follows with its JSON webhook', async () => {
    await start.stop({ keepUserDir: true });
    start = await startTutorial(['--api', 'messages'], start.userDir);
    should(start.output()).match(/switched 1 config node\(s\) to the Messages API/);
    const injectId = crypto.createHash('sha256').update('npm start 5e4d1c0a9b8e7f02').digest('hex').slice(0, 16);
    should((await fetch(`${start.editorUrl}/inject/${injectId}`, { method: 'POST' })).status).equal(200);
    await start.waitFor(/\[loopback Vonage API\] POST \/v1\/messages → status HTTP 202: SMS to 447700900123 from 447700900000: "Hello World"/);
    const { PORT: _port, LOOPBACK_PORT: _loopbackPort, ...env } = start.env;
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', 'On', 'the', 'Messages', 'API'], { cwd: ROOT, env, encoding: 'utf8' });
    should(inbound.status).equal(0, inbound.stdout + inbound.stderr);
    should(inbound.stdout).match(/"On the Messages API" \(Messages API\) → POST http:\/\/127\.0\.0\.1:\d+\/sms-in answered 200/);
    should(inbound.stdout).match(/reply recorded by the loopback Vonage API: Messages API, status HTTP 202, to 447700900001 from 447700900000: "You said On the Messages API"/);
    // The opt-out tab: a STOP, its one confirmation.
    const stop = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', '--path', '/sms-stop', '--from', '447700900002', 'STOP'], { cwd: ROOT, env, encoding: 'utf8' });
    should(stop.stdout).match(/to 447700900002 from 447700900000: "You will get no more SMS from us\. Reply START to get them again\."/);
  });

  it('says which address npm run inbound tried when nothing answers there', () => {
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', 'Hello'], {
      cwd: ROOT,
      env: { ...process.env, NODE_RED_USER_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-none-')), PORT: '9', LOOPBACK_PORT: '9' },
      encoding: 'utf8',
    });
    should(inbound.status).equal(1);
    should(inbound.stderr).match(/could not reach npm start's loopback Vonage API at http:\/\/127\.0\.0\.1:9 \(from PORT and LOOPBACK_PORT\)/);
  });
});

describe('npm start -- --redis: two Node-RED instances sharing a local redis-server', function () {
  this.timeout(180_000);
  let start: RunningStart;

  before(async () => {
    start = await startTutorial(['--redis']);
  });
  after(() => start?.stop());

  it("starts both on the same flows, with the loopback account's Shared state pointed at its own redis-server", async () => {
    should(start.output()).match(new RegExp(`\\[redis\\] started redis-server on 127\\.0\\.0\\.1:${start.env.REDIS_PORT}`));
    should(start.output()).match(new RegExp(`second instance: +http://127\\.0\\.0\\.1:${start.env.SECOND_PORT}/`));
    const credentials = JSON.parse(fs.readFileSync(path.join(start.userDir, 'flows_cred.json'), 'utf8'));
    should(Object.values(credentials).map((c: any) => c.redisurl)).eql([`redis://127.0.0.1:${start.env.REDIS_PORT}/0`]);
    // Each instance connects on its own, shortly after its flows start.
    await start.waitFor(/(shared state in Redis at 127\.0\.0\.1:\d+\/0 is reachable[\s\S]*){2}/);
  });

  it('joins a long SMS whose parts npm run inbound --spread sends to both instances, and answers it once', async () => {
    const text = 'a long message, in three parts, over two instances';
    // As a user runs it: npm start's addresses come from its npm-start.json.
    const { PORT: _port, LOOPBACK_PORT: _loopbackPort, ...env } = start.env;
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', '--path', '/sms-in', '--parts', '3', '--spread', text], { cwd: ROOT, env, encoding: 'utf8' });
    should(inbound.status).equal(0);
    should(inbound.stdout).match(new RegExp(`part 2 → GET http://127\\.0\\.0\\.1:${start.env.SECOND_PORT}/sms-in answered 200`));
    should(inbound.stdout).match(new RegExp(`part 1 → GET http://127\\.0\\.0\\.1:${start.env.PORT}/sms-in answered 200`));
    should(inbound.stdout).containEql(`reply recorded by the loopback Vonage API: status 0, to 447700900001 from 447700900000: "You said ${text}"`);
    // Then one more SMS to each instance, through the loopback as Vonage would send it: each instance passes
    // SMS on and queues their replies in order, so once both replies are in, a second reply to the long SMS
    // (from either) would be too.
    for (const [i, editor] of [start.editorUrl, `http://127.0.0.1:${start.env.SECOND_PORT}`].entries()) {
      const [params] = inboundRequests({ msisdn: `44770090009${i}`, to: '447700900000', text: `sentinel ${i}` });
      const delivered = await fetch(`${start.loopbackUrl}/_loopback/inbound`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url: `${editor}/sms-in`, params }) });
      should(await delivered.json()).eql({ status: 200 });
    }
    await start.waitFor(/You said sentinel 0/);
    await start.waitFor(/You said sentinel 1/);
    should(start.output().match(/You said a long message, in three parts, over two instances/g)).have.length(1);
  });
});

describe('npm start and npm run inbound: their options, refused when unknown', () => {
  const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [TSX, script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const nowhere = () => path.join(os.tmpdir(), `vonage-sms-nowhere-${crypto.randomBytes(6).toString('hex')}`);

  it('npm start -- --help prints the usage and does nothing else', () => {
    const userDir = nowhere();
    const help = run('dev/start.ts', ['--help'], { NODE_RED_USER_DIR: userDir });
    should(help.status).equal(0);
    should(help.stdout).startWith('Usage: npm start [-- options]');
    for (const option of ['--empty', '--reset', '--api sms|messages', '--redis', '--port N', '--loopback-port N', '--help']) should(help.stdout).containEql(option);
    should(fs.existsSync(userDir)).be.false();
  });

  it('npm start refuses an unknown option, a word, a bad --api or port with a sentence and the usage, and exits non-zero', () => {
    const userDir = nowhere();
    for (const [args, sentence] of [
      [['--bogus'], /^npm start: Unknown option '--bogus'/],
      [['reset'], /^npm start: Unexpected argument 'reset'/],
      [['--api', 'voice'], /^npm start: --api takes sms or messages, not "voice"\./],
      [['--port', 'eighty'], /^npm start: --port takes a port number from 1 to 65535, not "eighty"\./],
    ] as Array<[string[], RegExp]>) {
      const refused = run('dev/start.ts', args, { NODE_RED_USER_DIR: userDir });
      should(refused.status).equal(2, `${args.join(' ')}: ${refused.stdout}${refused.stderr}`);
      should(refused.stderr).match(sentence);
      should(refused.stderr).containEql('Usage: npm start [-- options]');
    }
    should(fs.existsSync(userDir)).be.false();
  });

  it('npm start refuses the combinations it cannot honour, saying why: --api twice, two servers on one port', () => {
    const userDir = nowhere();
    const twice = run('dev/start.ts', ['--api', 'sms', '--api', 'messages'], { NODE_RED_USER_DIR: userDir });
    should(twice.status).equal(2);
    should(twice.stderr).match(/^npm start: --api is given twice, as sms and messages: give it once\./);
    const onePort = run('dev/start.ts', ['--port', '5999', '--loopback-port', '5999'], { NODE_RED_USER_DIR: userDir });
    should(onePort.status).equal(2);
    should(onePort.stderr).match(/^npm start: Node-RED and the loopback Vonage API would both listen on port 5999: give them ports of their own\./);
    const redis = run('dev/start.ts', ['--redis'], { NODE_RED_USER_DIR: userDir, PORT: '5990', LOOPBACK_PORT: '5991', SECOND_PORT: '5991' });
    should(redis.status).equal(2);
    should(redis.stderr).match(/the loopback Vonage API and the second Node-RED would both listen on port 5991/);
    should(fs.existsSync(userDir)).be.false();
  });

  it('npm run inbound -- --help prints the usage and sends nothing', () => {
    const help = run('dev/inbound.ts', ['--help'], { NODE_RED_USER_DIR: nowhere(), PORT: '9', LOOPBACK_PORT: '9' });
    should(help.status).equal(0);
    should(help.stdout).startWith('Usage: npm run inbound -- [options] [text]');
    for (const option of ['--from N', '--to N', '--path P', '--parts N', '--spread', '--api sms|messages', '--help']) should(help.stdout).containEql(option);
    should(help.stdout + help.stderr).not.containEql('could not reach');
  });

  it('npm run inbound refuses an unknown option or a bad value with the usage, and exits non-zero, sending nothing', () => {
    for (const [args, sentence] of [
      [['--bogus', 'Hello'], /^npm run inbound: Unknown option '--bogus'/],
      [['--parts', 'three', 'Hello'], /^npm run inbound: --parts takes a whole number of parts, 1 or more, not "three"\./],
      [['--api', 'voice', 'Hello'], /^npm run inbound: --api takes sms or messages, not "voice"\./],
    ] as Array<[string[], RegExp]>) {
      const refused = run('dev/inbound.ts', args, { NODE_RED_USER_DIR: nowhere(), PORT: '9', LOOPBACK_PORT: '9' });
      should(refused.status).equal(2, `${args.join(' ')}: ${refused.stdout}${refused.stderr}`);
      should(refused.stderr).match(sentence);
      should(refused.stderr).containEql('Usage: npm run inbound -- [options] [text]');
      should(refused.stderr).not.containEql('could not reach');
    }
  });
});

describe('npm start: each start uses exactly the options it is given, and never loses a hand-built flow', function () {
  this.timeout(300_000);
  let start: RunningStart;
  let userDir: string;
  after(() => start?.stop());

  const TUTORIAL_TABS = ['Send an SMS', 'Reply to an SMS', 'Receive an SMS', 'Auto-reply with SMS in', 'Track delivery receipts', 'Honour opt-outs'];
  const flows = () => JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')) as Array<{ type: string; label?: string; api?: string }>;
  const tabs = () =>
    flows()
      .filter((n) => n.type === 'tab')
      .map((n) => n.label);
  const inbound = (...args: string[]) => {
    // As a user runs it: npm start's addresses from its npm-start.json.
    const { PORT: _port, LOOPBACK_PORT: _loopbackPort, ...env } = start.env;
    return spawnSync(process.execPath, [TSX, 'dev/inbound.ts', ...args], { cwd: ROOT, env, encoding: 'utf8' });
  };
  const again = async (args: string[]) => {
    await start.stop({ keepUserDir: true });
    start = await startTutorial(args, userDir);
  };

  it('--empty starts with no flows, and its banner says what runs and what to do', async () => {
    start = await startTutorial(['--empty']);
    userDir = start.userDir;
    should(tabs()).eql([]);
    const out = start.output();
    should(out).match(new RegExp(`Node-RED editor: +${start.editorUrl}/`));
    should(out).match(new RegExp(`loopback Vonage API: +${start.loopbackUrl} +\\(no Vonage account needed: API key loopback, secret loopback-secret\\)`));
    should(out).match(/API: +the SMS API/);
    should(out).match(/state: +in memory, one Node-RED instance/);
    should(out).containEql(`flow file:              ${path.join(userDir, 'flows.json')}: no flows (--empty)`);
    should(out).match(/what to do: +build the tutorial by hand \(docs\/tutorial\.md, "The tutorial, step by step"\)/);
    should(out).containEql(`set API host to ${start.loopbackUrl}, API Key to loopback and API Secret to loopback-secret`);
    // With no flow to answer it, npm run inbound says why.
    const hello = inbound('Hello');
    should(hello.status).equal(1);
    should(hello.stderr).match(/answered 404: no deployed flow serves GET \/sms\. npm start runs with no flows \(--empty\)/);
  });

  it('a second npm start on the same ports says that another one runs there, and how to stop it or pick other ports', () => {
    const second = spawnSync(process.execPath, [TSX, 'dev/start.ts'], { cwd: ROOT, env: start.env, encoding: 'utf8' });
    should(second.status).equal(1);
    should(second.stderr).match(
      new RegExp(
        `^npm start: port ${start.env.PORT} on 127\\.0\\.0\\.1, for Node-RED, is taken: another npm start is running on it \\(process (\\d+), from .*npm-start\\.json\\)\\. Stop that one \\(Ctrl\\+C in its terminal, or kill \\1\\), or start this one on other ports: npm start -- --port \\d+ --loopback-port \\d+`,
      ),
    );
    should(second.stderr).not.containEql('EADDRINUSE');
    // The running start is untouched: still its flows, still found by npm run inbound.
    should(tabs()).eql([]);
    should(JSON.parse(fs.readFileSync(path.join(userDir, 'npm-start.json'), 'utf8')).editor).equal(start.editorUrl);
  });

  it("--api messages after --empty: the tutorial's flows again, on the Messages API, as the banner says", async () => {
    await again(['--api', 'messages']);
    should(tabs()).eql(TUTORIAL_TABS);
    should(start.output()).match(/API: +the Messages API/);
    should(start.output()).containEql(`flow file:              ${path.join(userDir, 'flows.json')}: the tutorial's flows (six of the eight examples; "Receive an SMS" starts disabled)`);
    should(start.output()).match(/send an SMS: +click the inject button on the "Send an SMS" tab/);
  });

  it('a plain start after --api messages is on the SMS API again, and npm run inbound follows', async () => {
    await again([]);
    should(tabs()).eql(TUTORIAL_TABS);
    should(flows().filter((n) => n.type === 'nexmobasic' && n.api === 'messages')).be.empty();
    should(start.output()).match(/API: +the SMS API/);
    should(start.output()).not.match(/Messages API:/);
    const hello = inbound('Hello');
    should(hello.status).equal(0, hello.stdout + hello.stderr);
    should(hello.stdout).match(/→ GET http:\/\/127\.0\.0\.1:\d+\/sms answered 200/);
    should(hello.stdout).containEql('"You said Hello"');
  });

  const mine = [
    { id: 'f100000000000001', type: 'tab', label: 'My flow', disabled: false, info: '' },
    { id: 'f100000000000002', type: 'inject', z: 'f100000000000001', name: 'mine', props: [{ p: 'payload' }], payload: 'built by hand', payloadType: 'str', x: 120, y: 80, wires: [[]] },
  ];

  it('keeps a flow built by hand at a plain start, and says so', async () => {
    await start.stop({ keepUserDir: true });
    // As a Deploy in the editor writes it.
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(mine));
    start = await startTutorial([], userDir);
    should(flows()).eql(mine);
    should(start.output()).containEql(`flow file:              ${path.join(userDir, 'flows.json')}: your flows (changed since npm start wrote them), kept`);
    should(start.output()).match(/npm start -- --reset deploys the tutorial's flows again, saving yours to a backup file first/);
  });

  it('--reset saves a flow built by hand to a backup file that the banner names, then deploys the tutorial', async () => {
    await again(['--reset']);
    should(tabs()).eql(TUTORIAL_TABS);
    const backup = /your earlier flows: +saved to (\S+)/.exec(start.output())?.[1];
    should(backup).startWith(path.join(userDir, 'flows.backup-'));
    should(JSON.parse(fs.readFileSync(backup!, 'utf8'))).eql(mine);
    should(start.output()).match(/to get them back: stop npm start, copy that file over flows\.json, and npm start/);
  });

  it('--empty --api messages combine: no flows, and npm run inbound sends the Messages API webhook to what the user builds', async () => {
    await again(['--empty', '--api', 'messages']);
    should(tabs()).eql([]);
    // The tutorial's flows, unchanged, needed no backup.
    should(start.output()).not.match(/your earlier flows:/);
    should(start.output()).match(/API: +the Messages API/);
    should(start.output()).containEql('API Secret to loopback-secret, and API to Messages API;');
    const hello = inbound('Hello');
    should(hello.stdout).match(/\(Messages API\) → POST http:\/\/127\.0\.0\.1:\d+\/sms-in answered 404/);
    should(hello.stderr).match(/no deployed flow serves POST \/sms-in\. npm start runs with no flows \(--empty\)/);
  });
});
