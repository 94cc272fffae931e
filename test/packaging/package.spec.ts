/**
 * The package as users get it: `npm pack`, installed into a fresh Node-RED user directory with
 * the palette manager's own npm flags, and a real Node-RED started on it. What is shipped (and
 * nothing else), its images, and through the editor's admin API: the five node types, the seven
 * examples, a deploy with credentials whose secret never comes back, a click of the inject button
 * that reaches the loopback Vonage API, and who may check credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { NODE_RED_PACKAGE, nodeRedVersion } from '../support/nodeRed';
import { freePort } from '../support/ports';
import { until } from '../support/waitFor';
import { npm, PALETTE_INSTALL_FLAGS } from '../../dev/paletteInstall';

const ROOT = path.join(__dirname, '..', '..');
const MODULE = 'node-red-contrib-vonage-sms';
const SECRET = 'Pk9-packaged-secret-7Yt';

describe(`the packed module in Node-RED ${nodeRedVersion}`, function () {
  this.timeout(180_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-pack-'));
  const userDir = path.join(work, 'userDir');
  const api = new LoopbackVonageSmsApi([{ apiKey: 'abcd1234', apiSecret: SECRET, balance: 5 }]);
  let files: string[] = [];
  let nodeRed: ChildProcess | undefined;
  let output = '';
  let base = '';
  // adminAuth is on, as in any Node-RED that others can reach: an admin, and a viewer who may only read.
  const PASSWORDS = { admin: 'admin-password-1', viewer: 'viewer-password-1' };
  const tokens: Record<string, string> = {};

  async function login(username: keyof typeof PASSWORDS, scope: string): Promise<string> {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORDS[username] }),
    });
    should(res.status).equal(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function admin(method: string, route: string, body?: unknown, headers: Record<string, string> = {}, token: string | null = tokens.admin) {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }

  before(async () => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT));
    files = packed.files.map((f: { path: string }) => f.path).sort();

    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }));
    npm(['install', ...PALETTE_INSTALL_FLAGS, '--', path.join(work, packed.filename)], userDir);

    const restHost = await api.listen();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const settings = path.join(userDir, 'settings.js');
    const nodeRedDir = path.dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`));
    const bcrypt = require(require.resolve('bcryptjs', { paths: [nodeRedDir] }));
    const adminAuth = {
      type: 'credentials',
      users: [
        { username: 'admin', password: bcrypt.hashSync(PASSWORDS.admin, 8), permissions: '*' },
        { username: 'viewer', password: bcrypt.hashSync(PASSWORDS.viewer, 8), permissions: 'read' },
      ],
    };
    fs.writeFileSync(
      settings,
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'packaging-test', adminAuth: ${JSON.stringify(adminAuth)}, logging: { console: { level: 'info' } } };\n`,
    );
    const redJs = path.join(path.dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`)), 'red.js');
    nodeRed = spawn(process.execPath, [redJs, '--userDir', userDir, '--settings', settings], { env: { ...process.env, VONAGE_REST_HOST: restHost } });
    nodeRed.stdout!.on('data', (d) => (output += d));
    nodeRed.stderr!.on('data', (d) => (output += d));
    // Node-RED starts its flows and its HTTP server side by side: wait for both.
    await until(
      () => {
        if (/Started flows/.test(output) && /Server now running/.test(output)) return true;
        if (nodeRed!.exitCode !== null) throw new Error(`Node-RED did not start:\n${output}`);
        return false;
      },
      { what: () => `Node-RED to start:\n${output}`, timeoutMs: 60_000, everyMs: 200 },
    );
    tokens.admin = await login('admin', '*');
    tokens.viewer = await login('viewer', 'read');
  });

  after(async () => {
    if (nodeRed && nodeRed.exitCode === null) {
      nodeRed.kill('SIGTERM');
      await new Promise((resolve) => nodeRed!.once('exit', resolve));
    }
    await api.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships exactly what Node-RED needs: compiled nodes, editor panels, locales, icons, examples', () => {
    should(files).containDeep([
      'LICENSE',
      'README.md',
      'package.json',
      'examples/Send an SMS.json',
      'examples/Receive an SMS.json',
      'examples/Reply to an SMS.json',
      'examples/Auto-reply with SMS in.json',
      'examples/Track delivery receipts.json',
      'nodes/vonage-sms-in.js',
      'nodes/vonage-sms-in.html',
      'nodes/vonage-sms-receipt.js',
      'nodes/vonage-sms-receipt.html',
      'nodes/locales/en-US/vonage-sms-in.html',
      'nodes/locales/en-US/vonage-sms-receipt.json',
      'nodes/vonage-optout.js',
      'nodes/vonage-optout.html',
      'nodes/locales/en-US/vonage-optout.json',
      'nodes/locales/en-US/vonage-optout.html',
      'nodes/vonage-sms-usage.js',
      'nodes/vonage-sms-usage.html',
      'nodes/locales/en-US/vonage-sms-usage.json',
      'nodes/locales/en-US/vonage-sms-usage.html',
      'examples/Honour opt-outs.json',
      'examples/Use the Messages API.json',
      'nodes/nexmobasic.js',
      'nodes/nexmobasic.html',
      'nodes/sendsms.js',
      'nodes/sendsms.html',
      'nodes/icons/vonage-sms.svg',
      'nodes/icons/vonage-sms-in.svg',
      'nodes/icons/vonage-sms-receipt.svg',
      'nodes/locales/en-US/sendsms.json',
      'nodes/locales/en-US/sendsms.html',
      'nodes/locales/en-US/nexmobasic.json',
      'nodes/locales/en-US/nexmobasic.html',
      'nodes/vonage/smsClient.js',
      'resources/vonage-sms-editor.js',
    ]);
    const stray = files.filter((f) => /^(src|test|dev|\.ci)\/|^nodes\/loopback\/|tsconfig|\.ts$|\.mocharc/.test(f));
    should(stray).be.empty();
  });

  it('shows its README and docs/ images on the palette manager and npm: each link is absolute, and names an image in docs/images', () => {
    const installed = path.join(userDir, 'node_modules', MODULE);
    const imagesOf = (page: string) => [...fs.readFileSync(path.join(installed, page), 'utf8').matchAll(/!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]*\ssrc="([^"]+)"/g)].map((m) => ({ page, image: m[1] ?? m[2] }));
    const docs = fs
      .readdirSync(path.join(installed, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    should(imagesOf('README.md').length).be.aboveOrEqual(1);
    const images = ['README.md', ...docs].flatMap(imagesOf);
    should(images.length).be.above(3);
    const base = 'https://raw.githubusercontent.com/node-red-contrib-vonage-sms/node-red-contrib-vonage-sms/main/';
    for (const { page, image } of images) {
      const shipped = !/^[a-z]+:/i.test(image) && files.includes(path.posix.normalize(path.posix.join(path.posix.dirname(page), image)));
      if (shipped) continue;
      should(image.startsWith(base)).be.true(`${page}: ${image} is neither absolute nor in the package`);
      should(fs.existsSync(path.join(ROOT, image.slice(base.length)))).be.true(`${page}: ${image} names no file in the repository`);
    }
  });

  it('registers nexmobasic, sendsms, SMS in, SMS receipt and the opt-out list, in the nexmo section, with no load error', async () => {
    const { status, json } = await admin('GET', '/nodes');
    should(status).equal(200);
    const sets = (json() as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>).filter((s) => s.module === MODULE);
    should(sets.flatMap((s) => s.types).sort()).eql(['nexmobasic', 'sendsms', 'vonage-optout', 'vonage-sms-in', 'vonage-sms-receipt', 'vonage-sms-usage']);
    for (const s of sets) {
      should(s).have.properties({ enabled: true });
      should(s.err).be.undefined();
    }
    const editor = await admin('GET', '/nodes', undefined, { Accept: 'text/html' });
    should(editor.text).match(/registerType\('sendsms'[\s\S]*category: 'nexmo'[\s\S]*paletteLabel: 'Send SMS'/);
    should(editor.text).match(/data-help-name="sendsms"/);
    const editorHelpers = await admin('GET', `/resources/${MODULE}/vonage-sms-editor.js`);
    should(editorHelpers.status).equal(200);
    should(editorHelpers.text).match(/VonageSmsEditor/);
    // Each node its own icon.
    for (const name of ['vonage-sms.svg', 'vonage-sms-in.svg', 'vonage-sms-receipt.svg']) {
      const icon = await admin('GET', `/icons/${MODULE}/${name}`);
      should(icon.status).equal(200);
      should(icon.text).match(/^<svg/);
      should(editor.text).containEql(`icon: '${name}'`);
    }
  });

  it('offers the eight examples in Import › Examples', async () => {
    const list = await admin('GET', `/library/examples/flows/${MODULE}`);
    should(list.status).equal(200);
    const names = list
      .json()
      .map((e: { fn?: string } | string) => (typeof e === 'string' ? e : e.fn))
      .sort();
    should(names).eql(['Auto-reply with SMS in', 'Honour opt-outs', 'Receive an SMS', 'Reply to an SMS', 'See what was spent today', 'Send an SMS', 'Track delivery receipts', 'Use the Messages API']);
    const example = await admin('GET', `/library/examples/flows/${MODULE}/${encodeURIComponent('Send an SMS')}`);
    should(example.json()[0]).have.properties({ type: 'comment', name: 'Send an SMS' });
  });

  it('deploys the Send an SMS example with credentials, never returns the secret, and sends when the inject button is clicked', async () => {
    const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'Send an SMS.json'), 'utf8'));
    const tab = { id: 'tab1', type: 'tab', label: 'Send an SMS' };
    const flows = [
      tab,
      ...example.map((n: Record<string, unknown>) => {
        if (n.type === 'nexmobasic') return { ...n, resthost: '', credentials: { apikey: 'abcd1234', apisecret: SECRET } };
        return { ...n, z: tab.id };
      }),
    ];
    const startedBefore = output.split('Started flows').length;
    const deploy = await admin('POST', '/flows', flows, { 'Node-RED-Deployment-Type': 'full' });
    should([200, 204]).containEql(deploy.status);
    // The deploy may answer before the new flows have started.
    await until(() => output.split('Started flows').length > startedBefore, { what: 'the deployed flows to start' });

    const exported = await admin('GET', '/flows');
    should(exported.text).not.containEql(SECRET);
    const config = example.find((n: { type: string }) => n.type === 'nexmobasic');
    const creds = await admin('GET', `/credentials/nexmobasic/${config.id}`);
    // Password credentials (the secrets, the Redis URL) come back only as has_…
    should(creds.json()).eql({ apikey: 'abcd1234', has_apisecret: true, has_sigsecret: false, has_redisurl: false, appid: '', has_privatekey: false });

    const inject = example.find((n: { type: string }) => n.type === 'inject');
    const click = await admin('POST', `/inject/${inject.id}`);
    should(click.status).equal(200);
    await until(() => api.sent.length > 0, { what: 'the SMS at the API' });
    should(api.sent).have.length(1);
    should(api.sent[0].params).have.properties({ to: '447700900123', from: '447700900000', text: 'Hello World' });
    should(output).not.containEql(SECRET);
  });

  it('lets only users who may change nexmobasic nodes check credentials, and uses the stored secret', async () => {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'Send an SMS.json'), 'utf8')).find((n: { type: string }) => n.type === 'nexmobasic');
    const body = { id: config.id, apikey: 'abcd1234', apisecret: '__PWRD__', resthost: '' };
    should((await admin('POST', '/nexmobasic/check', body, {}, null)).status).equal(401);
    should((await admin('POST', '/nexmobasic/check', body, {}, tokens.viewer)).status).equal(401);
    const allowed = await admin('POST', '/nexmobasic/check', body);
    should(allowed.status).equal(200);
    should(allowed.json()).have.properties({ ok: true, autoReload: false });
    should(allowed.text).not.containEql(SECRET);
  });
});
