/**
 * `npm start` and `npm run inbound`, as a new user runs them: the tutorial end to end, offline,
 * in a user directory of its own, on free ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import should from 'should';
import { freePort } from '../support/ports';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');


describe('npm start: the tutorial, offline', function () {
  this.timeout(180_000);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-start-'));
  let start: ChildProcess;
  let output = '';
  let env: NodeJS.ProcessEnv;

  before(async () => {
    env = { ...process.env, NODE_RED_USER_DIR: userDir, PORT: String(await freePort()), LOOPBACK_PORT: String(await freePort()) };
    start = spawn(process.execPath, [TSX, 'dev/start.ts'], { cwd: ROOT, env });
    start.stdout!.on('data', (d) => (output += d));
    start.stderr!.on('data', (d) => (output += d));
    for (const deadline = Date.now() + 120_000; !/Started flows/.test(output); ) {
      if (Date.now() > deadline || start.exitCode !== null) throw new Error(`npm start did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  after(async () => {
    if (start.exitCode === null) {
      start.kill('SIGTERM');
      await new Promise((resolve) => start.once('exit', resolve));
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('installs the packed module into its user directory and deploys the tutorial flows against the loopback API', () => {
    should(fs.existsSync(path.join(userDir, 'node_modules', 'node-red-contrib-vonage-sms', 'nodes', 'sendsms.js'))).be.true();
    const flows = JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8'));
    should(flows.filter((n: { type: string }) => n.type === 'tab').map((n: { label: string }) => n.label)).eql(['Send an SMS', 'Reply to an SMS', 'Receive an SMS']);
    should(flows.find((n: { type: string }) => n.type === 'nexmobasic').resthost).equal(`http://127.0.0.1:${env.LOOPBACK_PORT}`);
  });

  it('sends "Hello World" through the loopback API when the inject button is clicked', async () => {
    const injectId = crypto.createHash('sha256').update('npm start 5e4d1c0a9b8e7f02').digest('hex').slice(0, 16);
    const res = await fetch(`http://127.0.0.1:${env.PORT}/inject/${injectId}`, { method: 'POST' });
    should(res.status).equal(200);
    for (const deadline = Date.now() + 10_000; !/status 0: SMS to 447700900123 from 447700900000: "Hello World"/.test(output) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    should(output).match(/\[loopback Vonage API\] POST \/sms\/json → status 0: SMS to 447700900123 from 447700900000: "Hello World"/);
  });

  it('answers a simulated inbound SMS (npm run inbound) with "You said …"', () => {
    const inbound = spawnSync(process.execPath, [TSX, 'dev/inbound.ts', 'Is', 'it', 'working?'], { cwd: ROOT, env, encoding: 'utf8' });
    should(inbound.status).equal(0);
    should(inbound.stdout).match(/inbound SMS from 447700900001 to 447700900000: "Is it working\?" → GET http:\/\/127\.0\.0\.1:\d+\/sms answered 200/);
    should(inbound.stdout).match(/reply recorded by the loopback Vonage API: status 0, to 447700900001 from 447700900000: "You said Is it working\?"/);
  });
});
