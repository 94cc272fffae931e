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
    should(start.output()).match(/pointed 2 node\(s\) of the flows at this start's addresses/);
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
    should(start.output()).match(new RegExp(`started redis-server on 127\\.0\\.0\\.1:${start.env.REDIS_PORT}`));
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
