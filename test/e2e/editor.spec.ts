/**
 * The editor in a real browser: Debian's Chromium driven by playwright-core against Node-RED with
 * this package installed as the palette manager installs it (npm start --empty) and the loopback
 * Vonage API. Screenshots of each step go to test-artifacts/e2e/.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RecordedRequest } from '../../dev/loopback/vonageSmsApi';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { ROOT, startTutorial, type RunningStart } from '../support/npmStart';
import { until } from '../support/waitFor';
import { ForwardProxy } from '../support/forwardProxy';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
const API_KEY = 'loopback';
const API_SECRET = 'loopback-secret';
/** The one config node every example shares (examples/*.json). */
const EXAMPLE_ACCOUNT = '5e4d1c0a9b8e7f05';

describe('the editor, in Chromium', function () {
  this.timeout(120_000);
  let start: RunningStart;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const responses: string[] = [];
  /** The Send an SMS example imported by test 2c, pointed at the loopback with a wrong secret. */
  let wrongSecretFlow = { sendSms: '', inject: '' };

  async function shot(name: string, { notifications = false } = {}): Promise<void> {
    // Kept as a wait: a still picture of the editor once its animations (a tray slides for 250 ms, a
    // notification fades in) are over, which nothing marks; the picture is for people, nothing is asserted on it.
    await page.waitForTimeout(300);
    // Notifications of earlier steps would hide what this step shows.
    if (!notifications) await page.evaluate(() => document.querySelectorAll<HTMLElement>('.red-ui-notification').forEach((n) => (n.style.visibility = 'hidden')));
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  }

  async function loopbackRequests(): Promise<RecordedRequest[]> {
    return (await (await fetch(`${start.loopbackUrl}/_loopback/requests`)).json()) as RecordedRequest[];
  }

  /** The id of the node of this type that the editor shows on the active tab, newest first. */
  async function nodeIds(type: string): Promise<string[]> {
    return page.evaluate((t) => {
      const RED = (window as any).RED;
      const ids: string[] = [];
      RED.nodes.eachNode((n: any) => {
        if (n.type === t && n.z === RED.workspaces.active()) ids.push(n.id);
      });
      return ids.reverse();
    }, type);
  }

  async function dragFromPalette(type: string, search: string, x: number, y: number): Promise<string> {
    const before = await nodeIds(type);
    await page.fill('#red-ui-palette-search input', '');
    await page.type('#red-ui-palette-search input', search, { delay: 20 });
    await page.dragAndDrop(`.red-ui-palette-node[data-palette-type="${type}"]`, '#red-ui-workspace-chart', { targetPosition: { x, y } });
    const after = await nodeIds(type);
    const added = after.filter((id) => !before.includes(id));
    should(added).have.length(1);
    return added[0];
  }

  async function wire(fromId: string, toId: string): Promise<void> {
    const from = await page.locator(`[id="${fromId}"] .red-ui-flow-port-output`).boundingBox();
    const to = await page.locator(`[id="${toId}"] .red-ui-flow-port-input`).boundingBox();
    await page.mouse.move(from!.x + from!.width / 2, from!.y + from!.height / 2);
    await page.mouse.down();
    await page.mouse.move(to!.x + to!.width / 2, to!.y + to!.height / 2, { steps: 8 });
    await page.mouse.up();
  }

  /** Once every edit tray has closed (Node-RED removes one 250 ms after it starts to slide out). */
  async function traysClosed(): Promise<void> {
    await page.waitForSelector('.red-ui-tray', { state: 'detached' });
  }

  /** Open a tab of the Vonage account dialog (nexmobasic), and wait until its fields show. */
  /** Every visible row label of the open trays fits on one line (Node-RED's 100 px column wraps longer ones). */
  async function labelsOnOneLine(where: string): Promise<void> {
    const wrapped = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.red-ui-tray .form-row > label:first-child')]
        .filter((label) => label.offsetParent !== null && label.innerText.trim() !== '')
        .filter((label) => label.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(label).lineHeight || '20'))
        .map((label) => label.innerText.trim()),
    );
    should(wrapped).eql([], `labels on two lines in ${where}`);
  }

  async function accountTab(label: string, id: string): Promise<void> {
    // RED.tabs takes a click within 400 ms of the last one on a tab for a double click, which does not
    // switch: a person never clicks two tabs that fast, a test does, so it clicks until the tab shows.
    await until(
      async () => {
        await page.click(`#node-config-nexmobasic-tabs .red-ui-tab:has-text("${label}")`);
        return (await page.isVisible(`#nexmobasic-tab-${id}`)) || undefined;
      },
      { what: `the ${label} tab`, everyMs: 150 },
    );
  }

  /** The title of the edit tray on top: the last of the titlebar's breadcrumbs (the node it was opened from comes first). */
  async function trayTitle(): Promise<string> {
    const crumbs = await page.locator('.red-ui-tray').last().locator('.red-ui-tray-titlebar li').allInnerTexts();
    return (crumbs.length > 0 ? crumbs[crumbs.length - 1] : await page.locator('.red-ui-tray').last().locator('.red-ui-tray-titlebar').innerText()).trim();
  }

  /** The editor's canvas mode (RED.view.state()) is, or is not, the one named (RED.state). */
  async function viewState(name: string, is = true): Promise<void> {
    await page.waitForFunction(([state, wanted]) => ((window as any).RED.view.state() === (window as any).RED.state[state]) === wanted, [name, is] as const);
  }

  /** Nodes the editor marks as not properly configured. */
  async function invalidNodes(): Promise<string[]> {
    return page.evaluate(() => {
      const RED = (window as any).RED;
      const invalid: string[] = [];
      RED.nodes.eachNode((n: any) => {
        if (n.valid === false) invalid.push(`${n.type} ${n.id}`);
      });
      RED.nodes.eachConfig((n: any) => {
        if (n.valid === false) invalid.push(`${n.type} ${n.id}`);
      });
      return invalid;
    });
  }

  /**
   * Deploy. `warned` lists what Node-RED's "not properly configured" confirmation must name: it must
   * appear then, and it is confirmed; with none, it must not appear.
   */
  async function deploy(warned: string[] = []): Promise<void> {
    const starts = () => start.output().match(/Started (flows|modified nodes|modified flows)/g)?.length ?? 0;
    const before = starts();
    await page.click('#red-ui-header-button-deploy');
    const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
    if (warned.length > 0) {
      await confirm.waitFor({ timeout: 5_000 });
      const dialog = await page.locator('.red-ui-notification:has(#red-ui-deploy-dialog-confirm-deploy-deploy)').innerText();
      for (const name of warned) should(dialog).containEql(name);
      await shot('08a-deploy-warns-of-account-without-key', { notifications: true });
      await confirm.click();
    }
    await page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")', { timeout: 15_000 });
    // Node-RED answers the deploy before it has started the new flows: its log says when it has.
    await until(() => starts() > before, { what: 'the deployed flows to start' });
  }

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    start = await startTutorial(['--empty']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('response', async (res) => {
      if (res.url().startsWith(start.editorUrl)) responses.push(await res.text().catch(() => ''));
    });
    await page.goto(`${start.editorUrl}/`);
    await page.waitForSelector('.red-ui-palette-node', { timeout: 30_000 });
  });

  afterEach(async () => {
    // A failed step may leave edit trays open: close them so the next test starts on the canvas.
    await page.evaluate(() => {
      const RED = (window as any).RED;
      for (let i = 0; i < 3; i += 1) RED.tray.close();
    });
    await traysClosed();
  });

  after(async () => {
    await browser?.close();
    await start?.stop();
  });

  it('1. the tutorial as a user does it: Send SMS from the nexmo palette, a new Vonage account (nexmobasic) on its Account tab, inject, Deploy, and the response in the debug sidebar', async () => {
    await page.type('#red-ui-palette-search input', 'sms', { delay: 20 });
    const section = page.locator('#red-ui-palette-container-nexmo');
    await section.waitFor();
    should(await section.locator('.red-ui-palette-node[data-palette-type="sendsms"] .red-ui-palette-label').innerText()).equal('Send SMS');
    await shot('01-palette-nexmo-section');

    const sendSms = await dragFromPalette('sendsms', 'sms', 420, 200);
    const inject = await dragFromPalette('inject', 'inject', 200, 200);
    const debug = await dragFromPalette('debug', 'debug', 660, 200);
    await wire(inject, sendSms);
    await wire(sendSms, debug);

    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-to');
    // One name for the account, wherever a person reads it.
    should((await page.locator('.form-row:has(#node-input-creds) label').first().innerText()).trim()).equal('Vonage account');
    should(await page.locator('#node-input-creds option:checked').innerText()).equal('Add new Vonage account...');
    should(await page.locator('.form-row:has(#node-input-to) .vonage-sms-template-marker').innerText()).equal('{}');
    await shot('02-send-sms-dialog-add-new-vonage-account');
    await labelsOnOneLine('the Send SMS dialog');
    // Node-RED 4 and 5 add a new config node with the + beside the pencil (the pencil edits one).
    await page.click('.form-row:has(#node-input-creds) .fa-plus');
    await page.waitForSelector('#node-config-input-apikey');
    should(await trayTitle()).equal('Add new Vonage account config node');
    // The dialog's tabs, as core's MQTT broker has them; the Account tab first, with the check in it.
    should(await page.locator('#node-config-nexmobasic-tabs .red-ui-tab-label').allInnerTexts()).eql(['Account', 'Sending', 'Spend limits', 'Webhooks', 'Opt-outs', 'Shared state']);
    should(await page.isVisible('#node-config-input-apikey')).be.true();
    should(await page.isVisible('#node-config-check-credentials')).be.true();
    should(await page.isVisible('#node-config-input-resthost')).be.false();
    await page.fill('#node-config-input-apikey', API_KEY);
    await page.fill('#node-config-input-apisecret', API_SECRET);
    await shot('03-vonage-account-tab-api-key-and-secret');
    await labelsOnOneLine('the Account tab');
    await accountTab('Sending', 'sending');
    should(await page.isVisible('#node-config-input-apikey')).be.false();
    should(await page.isVisible('#node-config-input-rate')).be.true();
    await page.fill('#node-config-input-resthost', start.loopbackUrl);
    await shot('03b-vonage-account-sending-tab');
    await labelsOnOneLine('the Sending tab');
    for (const [label, id, field] of [
      ['Spend limits', 'spend', 'countries'],
      ['Webhooks', 'webhooks', 'sigsecret'],
      ['Opt-outs', 'optouts', 'stopwords'],
      ['Shared state', 'state', 'redisurl'],
    ]) {
      await accountTab(label, id);
      should(await page.isVisible(`#node-config-input-${field}`)).be.true();
      should(await page.isVisible('#node-config-input-rate')).be.false();
      await labelsOnOneLine(`the ${label} tab`);
    }
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-apikey', { state: 'detached' });
    should(await page.locator('#node-input-creds option:checked').innerText()).equal(API_KEY);

    await page.fill('#node-input-to', '+44 7700 900123');
    await page.fill('#node-input-fr', 'AcmeInc');
    await page.fill('#node-input-text', 'Hello World');
    await shot('04-send-sms-to-from-text');
    await page.click('#node-dialog-ok');
    await deploy();

    await page.evaluate(() => (window as any).RED.sidebar.show('debug'));
    await page.click(`[id="${inject}"] .red-ui-flow-node-button`);
    const message = page.locator('.red-ui-debug-msg').first();
    await message.waitFor({ timeout: 15_000 });
    should(await message.innerText()).match(/message-count: "1"/);
    await page.locator(`[id="${sendSms}"] .red-ui-flow-node-status-label:has-text("sent (1 part)")`).waitFor();
    await shot('05-debug-sidebar-sms-api-response');

    const sent = (await loopbackRequests()).filter((r) => r.path === '/sms/json');
    should(sent).have.length(1);
    should(sent[0].params).have.properties({ to: '447700900123', from: 'AcmeInc', text: 'Hello World', type: 'text' });
  });

  it('1b. with one Vonage account, a Send SMS (or Opt-out list) dropped from the palette takes it; an SMS in stays unsigned', async () => {
    const [account] = await configNodes('nexmobasic');
    should(await configNodes('nexmobasic')).have.length(1);
    const second = await dragFromPalette('sendsms', 'sms', 420, 320);
    should(await page.evaluate((id) => (window as any).RED.nodes.node(id).creds, second)).equal(account.id);
    await page.dblclick(`[id="${second}"]`);
    await page.waitForSelector('#node-input-to');
    should(await page.locator('#node-input-creds option:checked').innerText()).equal(API_KEY);
    await shot('04b-second-send-sms-preselects-the-account');
    await page.click('#node-dialog-delete');
    await traysClosed();
    // Its palette label has a non-breaking hyphen (Opt‑out list), so "opt" finds it, as "optout" does.
    const optout = await dragFromPalette('vonage-optout', 'opt', 420, 320);
    should(await page.evaluate((id) => (window as any).RED.nodes.node(id).creds, optout)).equal(account.id);
    // Signed by is optional: an account there would refuse every unsigned webhook, so none is chosen for it.
    const smsIn = await dragFromPalette('vonage-sms-in', 'sms in', 420, 380);
    should(await page.evaluate((id) => (window as any).RED.nodes.node(id).creds, smsIn)).equal('');
    await page.dblclick(`[id="${smsIn}"]`);
    await page.waitForSelector('#node-input-creds-tip');
    should(await page.locator('#node-input-creds-tip').innerText()).match(/^Signed by is the Vonage account whose Signature secret checks these SMS webhooks/);
    await shot('04c-sms-in-signed-by-tip');
    await page.click('#node-dialog-delete');
    await traysClosed();
    await page.dblclick(`[id="${optout}"]`);
    await page.waitForSelector('#node-input-creds');
    await page.click('#node-dialog-delete');
    await traysClosed();
    should(await nodeIds('sendsms')).have.length(1);
    should(await nodeIds('vonage-optout')).have.length(0);
    should(await nodeIds('vonage-sms-in')).have.length(0);
  });

  /**
   * Import › Examples › node-red-contrib-vonage-sms › `name`, into a new flow. When the flow's
   * config node is already there, Node-RED asks; "Import copy" keeps the one already there.
   */
  async function importExample(name: string, screenshot?: string): Promise<{ conflict: boolean }> {
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.click('#red-ui-clipboard-dialog-import-tab-examples, .red-ui-tab:has-text("Examples")');
    const dialog = page.locator('#red-ui-clipboard-dialog');
    const folder = dialog.locator('.red-ui-treeList-label:has-text("node-red-contrib-vonage-sms")');
    await folder.waitFor();
    const example = dialog.locator(`.red-ui-treeList-label:has-text("${name}")`);
    if (!(await example.isVisible())) await folder.locator('.red-ui-treeList-icon').first().click();
    await example.click();
    await page.click('#red-ui-clipboard-dialog-import-opt-new');
    if (screenshot) await shot(screenshot);
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.waitForSelector('#red-ui-clipboard-dialog-ok', { state: 'hidden' });
    // Node-RED either asks what to do with a config node that is there already, or the nodes follow the mouse.
    await page.waitForFunction(() => {
      const RED = (window as any).RED;
      const asks = [...document.querySelectorAll('.red-ui-notification button')].some((b) => /Import copy/.test(b.textContent ?? '') && b.getClientRects().length > 0);
      return asks || RED.view.state() === RED.state.IMPORT_DRAGGING;
    });
    const copy = page.locator('.red-ui-notification button:has-text("Import copy")');
    const conflict = await copy.isVisible();
    if (conflict) {
      await copy.click();
      await viewState('IMPORT_DRAGGING');
    }
    // Imported nodes follow the mouse until a click puts them down.
    await page.mouse.click(330, 200);
    await viewState('IMPORT_DRAGGING', false);
    return { conflict };
  }

  /** The config nodes of a type, as the editor holds them. */
  async function configNodes(type: string): Promise<{ id: string; name: string; users: number }[]> {
    return page.evaluate((t) => {
      const found: { id: string; name: string; users: number }[] = [];
      (window as any).RED.nodes.eachConfig((n: any) => {
        if (n.type === t) found.push({ id: n.id, name: n.name, users: n.users.length });
      });
      return found;
    }, type);
  }

  it('2. Import › Examples › Reply to an SMS, select the credentials, Deploy, and an inbound SMS is answered', async () => {
    await importExample('Reply to an SMS', '06-import-examples-reply-to-an-sms');
    const [reply] = await nodeIds('sendsms');
    should(reply).be.ok();
    await page.dblclick(`[id="${reply}"]`);
    await page.waitForSelector('#node-input-to');
    should(await page.inputValue('#node-input-to')).equal('{{msg.payload.msisdn}}');
    should(await page.inputValue('#node-input-fr')).equal('{{msg.payload.to}}');
    should(await page.inputValue('#node-input-text')).equal('You said {{msg.payload.text}}');
    await page.selectOption('#node-input-creds', { label: API_KEY });
    await shot('07-reply-select-credentials');
    await page.click('#node-dialog-ok');
    // The example's own account, now unused and still without an API key, is the only thing flagged.
    should(await invalidNodes()).eql([`nexmobasic ${EXAMPLE_ACCOUNT}`]);
    // Deploy warns of it, as of any node that is not properly configured.
    await deploy(['Vonage account']);
    await shot('08-reply-flow-deployed');

    const params = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Hello from the browser test' })[0];
    const delivered = await fetch(`${start.loopbackUrl}/_loopback/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: `${start.editorUrl}/sms`, params }),
    });
    should(((await delivered.json()) as { status: number }).status).equal(200);
    const replies = await until(
      async () => {
        const found = (await loopbackRequests()).filter((r) => r.path === '/sms/json' && r.params.to === '447700900001');
        return found.length > 0 ? found : undefined;
      },
      { what: 'the reply at the loopback API', everyMs: 100 },
    );
    should(replies).have.length(1);
    should(replies[0].params).have.properties({ from: '447700900000', text: 'You said Hello from the browser test' });
    await page.locator(`[id="${reply}"] .red-ui-flow-node-status-label:has-text("sent (1 part)")`).waitFor();
    await shot('09-reply-sent');
  });

  it('2b. a flow written for node-red-contrib-nexmo imports without a "not properly configured" mark', async () => {
    const before = await invalidNodes();
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.view.importNodes(
        [
          { id: 'legacycfg0001', type: 'nexmobasic', name: 'old key' },
          { id: 'legacysms0001', type: 'sendsms', creds: 'legacycfg0001', to: '447700900123', fr: 'Alerts', text: 'Alarm: {{msg.payload}}', unicode: false, x: 300, y: 480, wires: [[]] },
        ],
        { addFlow: true, touchImport: true },
      );
    });
    await page.mouse.click(330, 200);
    await viewState('DEFAULT');
    should(await page.evaluate(() => !!(window as any).RED.nodes.node('legacysms0001'))).be.true();
    should(await invalidNodes()).eql(before);
  });

  it('2c. importing more examples reuses the one "Vonage account", flagged with its Send SMS nodes until it has an API key', async () => {
    should((await importExample('Send an SMS')).conflict).be.true();
    const [sendSms] = await nodeIds('sendsms');
    const [inject] = await nodeIds('inject');
    should((await importExample('Track delivery receipts')).conflict).be.true();
    const accounts = (await configNodes('nexmobasic')).filter((c) => c.name === 'Vonage account');
    should(accounts).have.length(1);
    should(accounts[0]).have.properties({ id: EXAMPLE_ACCOUNT });
    should(accounts[0].users).be.above(1);
    const flagged = await invalidNodes();
    should(flagged).containEql(`nexmobasic ${EXAMPLE_ACCOUNT}`);
    should(flagged).containEql(`sendsms ${sendSms}`);
    await page.evaluate((id) => {
      const RED = (window as any).RED;
      RED.workspaces.show(RED.nodes.node(id).z);
    }, sendSms);
    await page.locator(`[id="${sendSms}"] .red-ui-flow-node-changed, [id="${sendSms}"] .red-ui-flow-node-error`).first().waitFor();
    should(await page.locator(`[id="${sendSms}"] .red-ui-flow-node-error`).isVisible()).be.true();
    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-creds');
    should(await page.locator('#node-input-creds option:checked').innerText()).equal('Vonage account');
    await page.click('.form-row:has(#node-input-creds) .fa-pencil');
    await page.waitForSelector('#node-config-input-apikey');
    await shot('14-example-account-without-api-key');
    // The right key with the wrong secret: the SMS API answers status 4.
    await page.fill('#node-config-input-apikey', API_KEY);
    await page.fill('#node-config-input-apisecret', 'not-the-secret');
    await accountTab('Sending', 'sending');
    await page.fill('#node-config-input-resthost', start.loopbackUrl);
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-apikey', { state: 'detached' });
    await page.click('#node-dialog-ok');
    should(await invalidNodes()).not.containEql(`sendsms ${sendSms}`);
    should(await invalidNodes()).not.containEql(`nexmobasic ${EXAMPLE_ACCOUNT}`);
    wrongSecretFlow = { sendSms, inject };
  });

  it('2d. a failure reads in full in the debug sidebar, without a stack or a class name, and the status says it in words', async () => {
    const { sendSms, inject } = wrongSecretFlow;
    await deploy();
    await page.evaluate(() => (window as any).RED.sidebar.show('debug'));
    const errors = page.locator('.red-ui-debug-msg.red-ui-debug-msg-level-20');
    const before = await errors.count();
    await page.click(`[id="${inject}"] .red-ui-flow-node-button`);
    const error = errors.nth(before);
    await error.waitFor({ timeout: 15_000 });
    await page.locator(`[id="${sendSms}"] .red-ui-flow-node-status-label:has-text("failed: wrong API key or secret")`).waitFor();
    const text = await error.locator('.red-ui-debug-msg-payload').innerText();
    // Shown whole (Node-RED alone shows 80 characters and a caret): what happened first, then what to do.
    should(text).not.containEql('...');
    should(text).match(/^Vonage refused the SMS to 447700900123: status 4, Invalid credentials: /);
    should(text).containEql('check them on the Vonage account (nexmobasic)');
    should(text).not.match(/\bError\b|\bstack\b|node_modules|\n\s+at /);
    should(await error.locator('.red-ui-debug-msg-object-handle, .red-ui-debug-msg-expandable').count()).equal(0);
    await shot('15-debug-sidebar-error-in-full');
  });

  it('3a. the live counter under Text, and the hints under To and From', async () => {
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.workspaces.show(RED.nodes.getWorkspaceOrder()[0]);
    });
    const [sendSms] = await nodeIds('sendsms');
    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-text-counter-summary');
    const summary = page.locator('#node-input-text-counter-summary');
    // To is one fixed number and the credentials node is deployed: the price comes once typing pauses
    // (from the loopback's Pricing API, through nexmobasic/:id/price), and is kept while the dialog is open.
    await until(async () => (await summary.innerText()).includes('≈'), { what: 'the price in the counter' });
    should(await summary.innerText()).equal('11 characters · GSM-7 · 1 SMS part · ≈ €0.035 to United Kingdom');

    await page.fill('#node-input-text', 'It’s “fine” — really…');
    should(await summary.innerText()).equal('21 characters · Unicode · 1 SMS part · ≈ €0.035 to United Kingdom');
    should(await page.locator('#node-input-text-counter-culprits code').allInnerTexts()).eql(['’', '“', '”', '—', '…']);
    await shot('10-counter-unicode-look-alikes');
    await page.click('#node-input-text-replace');
    should(await page.inputValue('#node-input-text')).equal('It\'s "fine" - really...');
    should(await summary.innerText()).equal('23 characters · GSM-7 · 1 SMS part · ≈ €0.035 to United Kingdom');
    should(await page.locator('#node-input-text-counter-unicode').isVisible()).be.false();

    await page.fill('#node-input-text', 'x'.repeat(161));
    should(await summary.innerText()).equal('161 characters · GSM-7 · 2 SMS parts · ≈ €0.07 to United Kingdom');
    // A templated text's price would count its fixed part only: none is shown.
    await page.fill('#node-input-text', 'Hi {{msg.payload.name}} 😀');
    should(await summary.innerText()).equal('5 characters · Unicode · 1 SMS part');
    should(await page.locator('#node-input-text-counter-templated').isVisible()).be.true();

    await page.fill('#node-input-to', 'call me');
    should(await page.locator('#node-input-to-hint').innerText()).match(/^To "call me" is not a phone number/);
    await page.fill('#node-input-fr', 'MyLongCompanyName');
    should(await page.locator('#node-input-fr-hint').innerText()).match(/^From "MyLongCompanyName" is too long for a sender ID/);
    await shot('11-counter-templated-and-hints');
    await page.fill('#node-input-text', '');
    should(await summary.innerText()).equal('Text is empty: there is nothing to send');

    // Saved with a bad To and a bad From, the node gets the orange triangle, and both are reported.
    await page.click('#node-dialog-ok');
    await traysClosed();
    const state = await page.evaluate((id) => {
      const n = (window as any).RED.nodes.node(id);
      return { valid: n.valid, errors: (n.validationErrors || []).map(String) };
    }, sendSms);
    should(state.valid).be.false();
    should(state.errors.join('\n'))
      .match(/call me/)
      .and.match(/MyLongCompanyName/);
    should(await page.locator(`[id="${sendSms}"] .red-ui-flow-node-error`).isVisible()).be.true();
    await page.hover(`[id="${sendSms}"] .red-ui-flow-node-error`);
    await shot('11b-invalid-to-and-from-flagged');

    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-to');
    await page.fill('#node-input-to', '{{msg.payload.msisdn}}');
    should(await page.locator('#node-input-to-hint').isVisible()).be.false();
    await page.fill('#node-input-to', '+44 7700 900123');
    await page.fill('#node-input-fr', 'AcmeInc');
    await page.fill('#node-input-text', 'Hello World');
    await page.click('#node-dialog-ok');
    await traysClosed();
    should(await page.evaluate((id) => (window as any).RED.nodes.node(id).valid, sendSms)).be.true();
  });

  /** The element is drawn inside the 1280×800 window, where a person sees it: not below the fold nor under another element. */
  async function inView(selector: string): Promise<void> {
    const box = await page.locator(selector).boundingBox();
    should(box).be.ok();
    should(box!.height).be.above(0);
    should(box!.x).be.aboveOrEqual(0);
    should(box!.y).be.aboveOrEqual(0);
    should(box!.x + box!.width).be.belowOrEqual(1280);
    should(box!.y + box!.height).be.belowOrEqual(800);
    const seen = await page.evaluate(
      ([sel, x, y]) => {
        const target = document.querySelector(sel as string);
        const hit = document.elementFromPoint(x as number, y as number);
        return !!target && !!hit && (target === hit || target.contains(hit));
      },
      [selector, box!.x + Math.min(20, box!.width / 2), box!.y + box!.height / 2] as const,
    );
    should(seen).be.true();
  }

  it('3b. Check credentials shows the balance, or why the credentials fail, in view at 1280×800, and never sends a secret back', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const [sendSms] = await nodeIds('sendsms');
    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-creds');
    await page.click('.form-row:has(#node-input-creds) .fa-pencil');
    await page.waitForSelector('#node-config-check-credentials');
    should(await trayTitle()).equal('Edit Vonage account node');
    // The dialog shows the stored secret only as a placeholder: the check uses the stored one.
    should(await page.inputValue('#node-config-input-apisecret')).not.equal(API_SECRET);
    await page.click('#node-config-check-credentials');
    const result = page.locator('#node-config-check-result');
    await result.filter({ hasText: 'The credentials work' }).waitFor();
    should(await result.innerText()).match(/^The credentials work: the balance is €\d+\.\d\d\.$/);
    await inView('#node-config-check-result');
    await shot('12-check-credentials-ok');

    await page.fill('#node-config-input-apisecret', 'not-the-secret');
    await page.click('#node-config-check-credentials');
    await result.filter({ hasText: 'do not work' }).waitFor();
    should(await result.innerText()).match(/^These credentials do not work: .*HTTP 401.*accepts the API key "?loopback/);
    await inView('#node-config-check-result');
    await shot('13-check-credentials-refused');
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
    await page.setViewportSize({ width: 1400, height: 860 });

    const checks = (await loopbackRequests()).filter((r) => r.path === '/account/get-balance');
    should(checks.map((r) => r.outcome)).eql(['HTTP 200', 'HTTP 401']);
    should(responses.join('\n')).not.containEql(API_SECRET);
    should(pageErrors).be.empty();
  });

  it('3c. behind a proxy: an http proxy node added from the account dialog, deployed; the SMS and Check credentials go through it, and a wrong password reads in the debug sidebar, naming the proxy', async () => {
    const PROXY_USER = 'nodered';
    const PROXY_PASSWORD = 'proxy-pass-e2e';
    const WRONG_PASSWORD = 'not-the-proxy-pass';
    const proxy = await ForwardProxy.start({ user: PROXY_USER, password: PROXY_PASSWORD });
    try {
      const [sendSms] = await nodeIds('sendsms');
      const inject = await page.evaluate((id) => {
        const RED = (window as any).RED;
        return RED.nodes.filterLinks({ target: RED.nodes.node(id) }).find((link: any) => link.source.type === 'inject')?.source.id as string;
      }, sendSms);
      should(inject).be.a.String();
      const openAccount = async () => {
        await page.dblclick(`[id="${sendSms}"]`);
        await page.waitForSelector('#node-input-creds');
        await page.click('.form-row:has(#node-input-creds) .fa-pencil');
        await page.waitForSelector('#node-config-check-credentials');
      };
      const closeAccount = async () => {
        await page.click('#node-config-dialog-ok');
        await page.waitForSelector('#node-config-input-apikey', { state: 'detached' });
        await page.click('#node-dialog-ok');
        await traysClosed();
      };

      // The account's Sending tab: a Proxy row, core's http proxy config node, added with its +.
      await openAccount();
      await accountTab('Sending', 'sending');
      should(await page.isVisible('#node-config-input-proxy')).be.true();
      await page.click('.form-row:has(#node-config-input-proxy) .fa-plus');
      await page.waitForSelector('#node-config-input-url');
      should(await trayTitle()).equal('Add new http proxy config node');
      await page.fill('#node-config-input-url', proxy.url);
      await page.check('#node-config-input-useAuth');
      await page.fill('#node-config-input-username', PROXY_USER);
      await page.fill('#node-config-input-password', PROXY_PASSWORD);
      await shot('16-http-proxy-node-added-from-the-account');
      await page.click('#node-config-dialog-ok');
      await page.waitForSelector('#node-config-input-url', { state: 'detached' });
      should(await page.locator('#node-config-input-proxy option:checked').innerText()).equal(proxy.url);
      await labelsOnOneLine('the Sending tab, with its Proxy');
      await shot('16b-account-sending-tab-with-a-proxy');
      await closeAccount();
      await deploy();

      // An SMS goes through it: the loopback API is plain HTTP, so the proxy sees it in absolute form.
      await page.evaluate(() => (window as any).RED.sidebar.show('debug'));
      const messages = page.locator('.red-ui-debug-msg');
      const before = await messages.count();
      await page.click(`[id="${inject}"] .red-ui-flow-node-button`);
      await messages.nth(before).waitFor({ timeout: 15_000 });
      should(await messages.nth(before).innerText()).match(/message-count: "1"/);
      await proxy.sync();
      should(proxy.requests.map((e) => `${e.method} ${e.target} ${e.auth}`)).eql([`POST ${start.loopbackUrl}/sms/json ok`]);

      // Check credentials, deployed, goes through the same proxy.
      await openAccount();
      await page.click('#node-config-check-credentials');
      const result = page.locator('#node-config-check-result');
      await result.filter({ hasText: 'The credentials work' }).waitFor();
      await proxy.sync();
      // So does the price the Send SMS dialog's counter shows (asked when the dialog opened).
      const through = proxy.requests.map((e) => `${e.method} ${e.target} ${e.auth}`);
      should(through).containEql(`GET ${start.loopbackUrl}/account/get-balance ok`);
      should(through).containEql(`GET ${start.loopbackUrl}/account/get-pricing/outbound/sms?country=GB ok`);
      should(through.filter((line) => !line.endsWith(' ok'))).be.empty();
      const asked = proxy.requests.length;

      // A wrong password, typed in the proxy node through the account's pencil: the proxy refuses with 407.
      await accountTab('Sending', 'sending');
      await page.click('.form-row:has(#node-config-input-proxy) .fa-pencil');
      await page.waitForSelector('#node-config-input-url');
      await page.fill('#node-config-input-password', WRONG_PASSWORD);
      await page.click('#node-config-dialog-ok');
      await page.waitForSelector('#node-config-input-url', { state: 'detached' });
      await closeAccount();
      await deploy();
      const errors = page.locator('.red-ui-debug-msg.red-ui-debug-msg-level-20');
      const errorsBefore = await errors.count();
      await page.click(`[id="${inject}"] .red-ui-flow-node-button`);
      const error = errors.nth(errorsBefore);
      await error.waitFor({ timeout: 15_000 });
      await page.locator(`[id="${sendSms}"] .red-ui-flow-node-status-label:has-text("failed: proxy refused (HTTP 407)")`).waitFor();
      const said = await error.locator('.red-ui-debug-msg-payload').innerText();
      should(said).startWith(`the proxy ${proxy.url} refused to carry the request to 127.0.0.1:`);
      should(said).match(/\(HTTP 407 .*: it asks for a user and password, and those given are missing or wrong\); the SMS to 447700900123 was not sent$/);
      await shot('17-debug-sidebar-proxy-refused');
      await proxy.sync();
      should(proxy.requests.slice(asked).map((e) => `${e.method} ${e.auth} ${e.status}`)).eql(['POST wrong 407']);
      // Neither password ever came back to the editor: not in a dialog's data, a status or the debug sidebar.
      for (const secret of [PROXY_PASSWORD, WRONG_PASSWORD]) should(responses.join('\n')).not.containEql(secret);

      // Back to no proxy, for the tests after this one: "Add new http proxy..." selected means none.
      await openAccount();
      await accountTab('Sending', 'sending');
      await page.selectOption('#node-config-input-proxy', '_ADD_');
      await closeAccount();
      await deploy();
      should(pageErrors).be.empty();
    } finally {
      await proxy.stop();
    }
  });

  it('4. Import › Examples › Honour opt-outs: opt-outs are on in the account dialog, a STOP stops the next SMS, and the debug sidebar says why', async () => {
    await importExample('Honour opt-outs');
    const smsIn = (await nodeIds('vonage-sms-in'))[0];
    const sendSms = (await nodeIds('sendsms'))[0];
    const text = (await page.evaluate(() => {
      const RED = (window as any).RED;
      const found: Record<string, string> = {};
      RED.nodes.eachNode((n: any) => {
        if (n.z === RED.workspaces.active() && n.type === 'inject') found[n.name] = n.id;
      });
      return found;
    })) as Record<string, string>;
    should(text).have.keys('Import a list', 'Show the list', 'Text +447700900001');
    // Another flow serves GET /sms here (test 2): this SMS in gets a path of its own, as a user would do.
    await page.dblclick(`[id="${smsIn}"]`);
    await page.waitForSelector('#node-input-url');
    await page.fill('#node-input-url', '/sms-stop');
    await page.click('#node-dialog-ok');
    // The account: opt-outs are on without anyone choosing it; the right secret this time.
    await page.dblclick(`[id="${sendSms}"]`);
    await page.waitForSelector('#node-input-creds');
    await page.click('.form-row:has(#node-input-creds) .fa-pencil');
    await page.waitForSelector('#node-config-input-apikey');
    should(await page.isChecked('#node-config-input-optout')).be.true();
    await page.fill('#node-config-input-apikey', API_KEY);
    await page.fill('#node-config-input-apisecret', API_SECRET);
    await accountTab('Sending', 'sending');
    await page.fill('#node-config-input-resthost', start.loopbackUrl);
    await accountTab('Opt-outs', 'optouts');
    await page.fill('#node-config-input-stopreply', 'You will get no more SMS from us. Reply START to get them again.');
    await page.locator('#node-config-input-stopreply').scrollIntoViewIfNeeded();
    await shot('16-account-opt-outs');
    // Beside the replies: how many an hour, and why a signature secret matters for them.
    should(await page.inputValue('#node-config-input-replylimit')).equal('60');
    await page.locator('#node-config-replies-tip').scrollIntoViewIfNeeded();
    should(await page.locator('#node-config-replies-tip').innerText()).match(/forged STOPs[\s\S]*Signature secret/);
    await shot('16b-account-replies-tip');
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-apikey', { state: 'detached' });
    await page.click('#node-dialog-ok');
    await deploy();

    const earlier = (await loopbackRequests()).length;
    const params = inboundRequests({ msisdn: '447700900001', to: '447700900000', text: 'Stop.' })[0];
    const delivered = await fetch(`${start.loopbackUrl}/_loopback/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: `${start.editorUrl}/sms-stop`, params }),
    });
    should(((await delivered.json()) as { status: number }).status).equal(200);
    await page.evaluate(() => (window as any).RED.sidebar.show('debug'));
    const messages = page.locator('.red-ui-debug-msg');
    const before = await messages.count();
    await page.click(`[id="${text['Text +447700900001']}"] .red-ui-flow-node-button`);
    // Send SMS's own error (level 20), shown whole.
    const why = page.locator('.red-ui-debug-msg.red-ui-debug-msg-level-20:has-text("this number opted out")');
    await why
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(async (err) => {
        await shot('17-debug-failure');
        throw err;
      });
    should(await messages.count()).be.above(before);
    should(await why.first().innerText()).match(/not sent to \+447700900001: this number opted out on \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \(replied with an opt-out keyword such as STOP\)/);
    await page.locator(`[id="${sendSms}"] .red-ui-flow-node-status-label:has-text("failed: number opted out: not sent")`).waitFor();
    await shot('17-opted-out-not-sent');
    const sms = (await loopbackRequests()).slice(earlier).filter((r) => r.path === '/sms/json' && r.params.to === '447700900001');
    // The one confirmation of the STOP, and nothing since.
    should(sms.map((r) => r.params.text)).eql(['You will get no more SMS from us. Reply START to get them again.']);
    should(pageErrors).be.empty();
  });
});
