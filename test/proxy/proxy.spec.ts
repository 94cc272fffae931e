/**
 * Every request to Vonage through an HTTP proxy (issue 22 part 3), end to end: real Node-RED processes, a
 * real forwarding proxy process (test/support/forwardProxyServer.js) and the loopback API over HTTP and over
 * HTTPS (a throwaway CA trusted through NODE_EXTRA_CA_CERTS, which Node.js reads at start only: hence the
 * processes). The environment's https_proxy / HTTPS_PROXY / http_proxy / no_proxy (read at deploy), and
 * Node-RED's own `http proxy` config node named by the account (which wins over the environment): HTTPS in
 * a CONNECT tunnel kept open, HTTP in absolute form, no_proxy's forms, proxy authentication, a refusing proxy,
 * and the Messages API, Check credentials and the price route through it. A proxy's password appears nowhere.
 *
 * Each flow answers its own HTTP request (http in → Send SMS → http response, its Catch node likewise), so
 * that nothing but the package's own requests leaves the Node-RED process (a core http request node would
 * take the environment's proxy too). The statuses of Send SMS go to global context, read at GET /statuses.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { ForwardProxy, type ProxyEvent } from '../support/forwardProxy';
import { freePort } from '../support/ports';
import { childEnv, RealNodeRed } from '../support/realNodeRed';
import { testCertificates } from '../support/testCertificates';
import { until } from '../support/waitFor';

const API_KEY = 'proxy001';
const API_SECRET = 'proxy-suite-api-secret';
const PROXY_USER = 'smsproxyuser';
const PROXY_PASSWORD = 'Pr0xy-pa55-Zq9wX';
const WRONG_PASSWORD = 'Wr0ng-pa55-Kd7tY';
const ACCOUNT = { apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000 };

interface Outcome {
  event: 'sent' | 'failed';
  error?: string;
  sms?: { to?: string; maybeSent?: boolean };
  payload?: unknown;
}

/** Each deployment keeps its statuses apart (global context outlives a deployment). */
let deployments = 0;

/**
 * A flow around one account: POST /send sends msg.payload {to, text}, and answers with its outcome;
 * GET /statuses answers the statuses Send SMS showed since this flow was deployed.
 */
function flows(account: Record<string, unknown>, extra: unknown[] = []): unknown[] {
  const statuses = `statuses${++deployments}`;
  const outcome = (event: string) =>
    `msg.payload = { event: '${event}', error: msg.error && msg.error.message, sms: msg.sms, payload: '${event}' === 'sent' ? msg.payload : undefined }; msg.statusCode = 200; return msg;`;
  return [
    { id: 'tab', type: 'tab', label: 'proxy' },
    { id: 'cfg', type: 'nexmobasic', name: 'proxied', timeout: 5, retries: 0, ...account },
    ...extra,
    { id: 'in', z: 'tab', type: 'http in', url: '/send', method: 'post', wires: [['send']] },
    { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '{{msg.payload.to}}', fr: 'Acme', text: '{{msg.payload.text}}', wires: [['sent']] },
    { id: 'sent', z: 'tab', type: 'function', func: outcome('sent'), outputs: 1, wires: [['answer']] },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['send'], uncaught: false, wires: [['failed']] },
    { id: 'failed', z: 'tab', type: 'function', func: outcome('failed'), outputs: 1, wires: [['answer']] },
    { id: 'answer', z: 'tab', type: 'http response', wires: [] },
    { id: 'watch', z: 'tab', type: 'status', scope: ['send'], wires: [['keep']] },
    { id: 'keep', z: 'tab', type: 'function', func: `const all = global.get('${statuses}') || []; all.push(msg.status.text || ''); global.set('${statuses}', all); return null;`, outputs: 1, wires: [[]] },
    { id: 'ask', z: 'tab', type: 'http in', url: '/statuses', method: 'get', wires: [['statuses']] },
    { id: 'statuses', z: 'tab', type: 'function', func: `msg.payload = global.get('${statuses}') || []; return msg;`, outputs: 1, wires: [['answer']] },
  ];
}

/** Core's http proxy config node, with its user and password as the editor sends them. */
function proxyNode(id: string, url: string, options: { noproxy?: string[]; username?: string; password?: string } = {}): Record<string, unknown> {
  const { noproxy = [], username, password } = options;
  return { id, type: 'http proxy', name: '', url, noproxy, ...(username ? { credentials: { username, password } } : {}) };
}

async function sendSms(red: RealNodeRed, to = '447700900123', text = 'Through the proxy'): Promise<Outcome> {
  const res = await fetch(`${red.base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to, text }) });
  should(res.status).equal(200);
  return (await res.json()) as Outcome;
}

/** Every status Send SMS showed so far, once one matches `wanted` (a status may come after the msg's answer). */
async function statusesOnce(red: RealNodeRed, wanted: RegExp): Promise<string[]> {
  let said: string[] = [];

  await until(
    async () => {
      said = (await (await fetch(`${red.base}/statuses`)).json()) as string[];
      return said.some((text) => wanted.test(text));
    },
    { what: () => `a status matching ${wanted} (statuses: ${JSON.stringify(said)})` },
  );
  return said;
}

async function check(red: RealNodeRed, body: Record<string, unknown>): Promise<{ ok: boolean; error?: string; blame?: string; balance?: number }> {
  const res = await fetch(`${red.base}/nexmobasic/check`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  should(res.status).equal(200);
  return (await res.json()) as { ok: boolean; error?: string; blame?: string };
}

const targets = (events: ProxyEvent[]) => events.map((e) => `${e.method} ${e.target} ${e.status}`);

describe('HTTP(S) proxy for every request to Vonage (real Node-RED processes, a real proxy)', function () {
  this.timeout(60_000);
  const certs = testCertificates();
  /** The loopback API over HTTPS, a second one over HTTPS (for no_proxy host:port), one over plain HTTP. */
  const secure = new LoopbackVonageSmsApi([ACCOUNT]);
  const secure2 = new LoopbackVonageSmsApi([ACCOUNT]);
  const plain = new LoopbackVonageSmsApi([ACCOUNT]);
  const apis = [secure, secure2, plain];
  /** An open proxy, one asking for a user and password, and one refusing every request with 502. */
  let open: ForwardProxy;
  let guarded: ForwardProxy;
  let refusing: ForwardProxy;
  const proxies = () => [open, guarded, refusing];
  const reds: RealNodeRed[] = [];

  /** A Node-RED with these environment variables (and the test CA trusted) and the flows of `account`. */
  async function startRed(env: Record<string, string>, account: Record<string, unknown>, extra: unknown[] = []): Promise<RealNodeRed> {
    const red = await RealNodeRed.start({ flows: flows(account, extra), credentials: { cfg: { apikey: API_KEY, apisecret: API_SECRET } }, env: { NODE_EXTRA_CA_CERTS: certs.caFile, ...env } });
    reds.push(red);
    return red;
  }

  async function deploy(red: RealNodeRed, account: Record<string, unknown>, extra: unknown[] = []): Promise<void> {
    const all = flows(account, extra) as Array<Record<string, unknown>>;
    const cfg = all.find((n) => n.id === 'cfg')!;
    cfg.credentials = { apikey: API_KEY, apisecret: API_SECRET };
    await red.deploy(all);
  }

  before(async () => {
    await secure.listen(0, '127.0.0.1', { tls: certs });
    await secure2.listen(0, '127.0.0.1', { tls: certs });
    await plain.listen();
    [open, guarded, refusing] = await Promise.all([ForwardProxy.start(), ForwardProxy.start({ user: PROXY_USER, password: PROXY_PASSWORD }), ForwardProxy.start({ refuse: 502 })]);
  });
  beforeEach(async () => {
    // What each test sees starts empty: what came before it is all in (sync) and cleared.
    for (const proxy of proxies()) {
      await proxy.sync();
      proxy.clear();
    }
    for (const api of apis) {
      api.reset();
      api.addAccount(ACCOUNT);
    }
  });
  after(async () => {
    await Promise.all(reds.map((red) => red.stop()));
    await Promise.all(proxies().map((proxy) => proxy?.stop()));
    await Promise.all(apis.map((api) => api.close()));
  });

  it('(the test proxy itself) tunnels a plain https.request of a process trusting the test CA to the HTTPS loopback', async () => {
    const script = `const http = require('http'), https = require('https');
      const [proxy, target] = process.argv.slice(1).map((u) => new URL(u));
      http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target.host }).on('connect', (res, socket) => {
        https.get(target.href + 'account/get-balance?api_key=${API_KEY}&api_secret=${API_SECRET}', { socket, agent: false, createConnection: () => require('tls').connect({ socket }) }, (answer) => {
          let body = ''; answer.on('data', (d) => (body += d)); answer.on('end', () => console.log(answer.statusCode, body));
        });
      }).end();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, open.url, secure.url], { env: childEnv({ NODE_EXTRA_CA_CERTS: certs.caFile }) });
    should(stdout.trim()).equal('200 {"value":1000,"autoReload":false}');
    await open.sync();
    should(targets(open.seen)).eql([`CONNECT 127.0.0.1:${new URL(secure.url).port} 200`]);
  });

  describe('the environment: https_proxy and http_proxy (lower case over upper case)', () => {
    let red: RealNodeRed;
    before(async () => {
      red = await startRed(
        {
          https_proxy: open.url,
          HTTPS_PROXY: refusing.url,
          // Without a scheme: taken as http://.
          http_proxy: open.url.replace('http://', ''),
          HTTP_PROXY: refusing.url,
          // Lower case first here too: NO_PROXY's '*' would send everything direct.
          no_proxy: 'example.com',
          NO_PROXY: '*',
        },
        { resthost: secure.url },
      );
    });

    it('sends an SMS to an https:// API host in a CONNECT tunnel, and the next one through the same tunnel', async () => {
      const first = await sendSms(red, '447700900123', 'first');
      should(first.event).equal('sent', first.error);
      const second = await sendSms(red, '447700900124', 'second');
      should(second.event).equal('sent', second.error);
      should(secure.sent.map((r) => r.params.text)).eql(['first', 'second']);
      await open.sync();
      // One CONNECT for both: the tunnel is kept open and used again.
      should(targets(open.seen)).eql([`CONNECT 127.0.0.1:${new URL(secure.url).port} 200`]);
      await refusing.sync();
      should(refusing.seen).be.empty();
    });

    it('sends to an http:// API host in absolute form, over one kept-alive connection to the proxy', async () => {
      await deploy(red, { resthost: plain.url });
      should((await sendSms(red, '447700900123', 'one')).event).equal('sent');
      should((await sendSms(red, '447700900124', 'two')).event).equal('sent');
      should(plain.sent.map((r) => r.params.text)).eql(['one', 'two']);
      await open.sync();
      should(targets(open.requests)).eql([`POST ${plain.url}/sms/json 200`, `POST ${plain.url}/sms/json 200`]);
      should(open.connects).be.empty();
      should(new Set(open.requests.map((e) => e.connection)).size).equal(1);
    });

    it('sends on the Messages API (POST /v1/messages) through the proxy', async () => {
      await deploy(red, { resthost: secure.url, api: 'messages' });
      const outcome = await sendSms(red);
      should(outcome.event).equal('sent', outcome.error);
      should(secure.sentMessages).have.length(1);
      await open.sync();
      should(targets(open.connects)).eql([`CONNECT 127.0.0.1:${new URL(secure.url).port} 200`]);
    });

    it('asks the price (GET nexmobasic/:id/price) through the proxy', async () => {
      await deploy(red, { resthost: secure.url });
      const res = await fetch(`${red.base}/nexmobasic/cfg/price?to=${encodeURIComponent('+447700900123')}`);
      should(res.status).equal(200);
      should(await res.json()).have.properties({ country: 'GB' });
      should(secure.pricingRequests).have.length(1);
      await open.sync();
      should(open.connects).have.length(1);
    });

    it('reads the price for the money budget (dailyspend) through the proxy, then sends', async () => {
      await deploy(red, { resthost: secure.url, dailyspend: '5' });
      const outcome = await sendSms(red);
      should(outcome.event).equal('sent', outcome.error);
      should(secure.pricingRequests.map((r) => r.params.country)).eql(['GB']);
      should(secure.sent).have.length(1);
      await open.sync();
      should(open.connects.length).be.within(1, 2);
      should(open.connects.map((e) => e.status)).matchEach(200);
      await refusing.sync();
      should(refusing.seen).be.empty();
    });

    it('checks credentials through the proxy', async () => {
      const answer = await check(red, { id: 'cfg', api: 'sms', apikey: API_KEY, apisecret: API_SECRET, resthost: secure.url });
      should(answer).have.properties({ ok: true, balance: 1000 });
      await open.sync();
      should(targets(open.connects)).eql([`CONNECT 127.0.0.1:${new URL(secure.url).port} 200`]);
      await refusing.sync();
      should(refusing.seen).be.empty();
    });
  });

  describe('the environment: HTTPS_PROXY in upper case, with a user and password, and NO_PROXY host:port', () => {
    let red: RealNodeRed;
    before(async () => {
      red = await startRed({ HTTPS_PROXY: guarded.urlWith(PROXY_USER, PROXY_PASSWORD), NO_PROXY: `127.0.0.1:${new URL(secure2.url).port}` }, { resthost: secure.url });
    });

    it('sends through the proxy with Proxy-Authorization from the URL', async () => {
      const outcome = await sendSms(red);
      should(outcome.event).equal('sent', outcome.error);
      should(secure.sent).have.length(1);
      await guarded.sync();
      should(guarded.connects.map((e) => [e.auth, e.status])).eql([['ok', 200]]);
      should(red.log).not.containEql(PROXY_PASSWORD);
    });

    it('sends direct to the host and port NO_PROXY names', async () => {
      await deploy(red, { resthost: secure2.url });
      const outcome = await sendSms(red);
      should(outcome.event).equal('sent', outcome.error);
      should(secure2.sent).have.length(1);
      await guarded.sync();
      should(guarded.seen).be.empty();
    });
  });

  describe("no_proxy's forms send direct", () => {
    const forms = ['127.0.0.1', '*', '127.0.0.0/8', 'example.com, 127.0.0.1'];
    const byForm = new Map<string, RealNodeRed>();
    before(async () => {
      // Side by side: a Node-RED each, the environment being read at start.
      const started = await Promise.all(forms.map((noProxy) => startRed({ https_proxy: open.url, no_proxy: noProxy }, { resthost: secure.url })));
      forms.forEach((form, i) => byForm.set(form, started[i]));
    });

    for (const form of forms) {
      it(`no_proxy=${form}`, async () => {
        const outcome = await sendSms(byForm.get(form)!);
        should(outcome.event).equal('sent', outcome.error);
        should(secure.sent).have.length(1);
        await open.sync();
        should(open.seen).be.empty();
      });
    }

    it('a leading-dot domain (.localhost) is for the hosts under it: https://localhost itself goes through the proxy', async () => {
      const red = await startRed({ https_proxy: open.url, no_proxy: '.localhost' }, { resthost: `https://localhost:${new URL(secure.url).port}` });
      const outcome = await sendSms(red);
      should(outcome.event).equal('sent', outcome.error);
      await open.sync();
      should(targets(open.connects)).eql([`CONNECT localhost:${new URL(secure.url).port} 200`]);
    });
  });

  describe("an http proxy node named by the account (the environment's refusing proxy ignored)", () => {
    let red: RealNodeRed;
    before(async () => {
      red = await startRed({ https_proxy: refusing.url, http_proxy: refusing.url }, { resthost: secure.url });
    });

    it('sends through it with its user and password, over HTTPS and over HTTP', async () => {
      const px = proxyNode('px', guarded.url, { username: PROXY_USER, password: PROXY_PASSWORD });
      await deploy(red, { resthost: secure.url, proxy: 'px' }, [px]);
      should(await sendSms(red)).have.properties({ event: 'sent' });
      await deploy(red, { resthost: plain.url, proxy: 'px' }, [px]);
      should(await sendSms(red)).have.properties({ event: 'sent' });
      should(secure.sent).have.length(1);
      should(plain.sent).have.length(1);
      await guarded.sync();
      should(guarded.seen.map((e) => `${e.kind} ${e.auth} ${e.status}`)).eql(['connect ok 200', 'request ok 200']);
      await refusing.sync();
      should(refusing.seen).be.empty();
    });

    it("sends direct to a host on the node's no-proxy list", async () => {
      await deploy(red, { resthost: secure.url, proxy: 'px' }, [proxyNode('px', guarded.url, { noproxy: ['127.0.0.0/8'] })]);
      should(await sendSms(red)).have.properties({ event: 'sent' });
      should(secure.sent).have.length(1);
      await guarded.sync();
      await refusing.sync();
      should([...guarded.seen, ...refusing.seen]).be.empty();
    });

    it('a wrong password: 407, the SMS not sent, an error naming the proxy; the password nowhere', async () => {
      // One retry allowed, and none taken: the proxy would refuse again.
      await deploy(red, { resthost: secure.url, proxy: 'px', retries: 1 }, [proxyNode('px', guarded.url, { username: PROXY_USER, password: WRONG_PASSWORD })]);
      const outcome = await sendSms(red);
      should(outcome.event).equal('failed');
      should(outcome.error)
        .containEql(guarded.url)
        .and.match(/HTTP 407/)
        .and.match(/not sent/);
      should(outcome.sms?.maybeSent).equal(false);
      should(secure.requests).be.empty();
      await guarded.sync();
      // Not retried: one CONNECT, refused.
      should(guarded.seen.map((e) => `${e.kind} ${e.auth} ${e.status}`)).eql(['connect wrong 407']);
      const said = await statusesOnce(red, /proxy refused \(HTTP 407\)/);
      const flowsNow = await (await fetch(`${red.base}/flows`)).text();
      for (const where of [JSON.stringify(outcome), JSON.stringify(said), red.log, flowsNow]) {
        should(where).not.containEql(WRONG_PASSWORD);
        should(where).not.containEql(PROXY_PASSWORD);
      }
    });

    it('no user and password for a proxy asking for them: 407 in absolute form too', async () => {
      // A new node: deployed again without credentials, node px would keep those it had, as in the editor.
      await deploy(red, { resthost: plain.url, proxy: 'pxNone' }, [proxyNode('pxNone', guarded.url)]);
      const outcome = await sendSms(red);
      should(outcome.event).equal('failed');
      should(outcome.error)
        .containEql(guarded.url)
        .and.match(/HTTP 407/)
        .and.match(/not sent/);
      should(plain.requests).be.empty();
      await guarded.sync();
      should(guarded.seen.map((e) => `${e.kind} ${e.auth} ${e.status}`)).eql(['request missing 407']);
    });

    it('a proxy refusing with 502: retried as a connection failure, then the SMS not sent, an error naming the proxy', async () => {
      await deploy(red, { resthost: secure.url, proxy: 'px', retries: 1 }, [proxyNode('px', refusing.url)]);
      const outcome = await sendSms(red);
      should(outcome.event).equal('failed');
      should(outcome.error)
        .containEql(refusing.url)
        .and.match(/HTTP 502/)
        .and.match(/not sent/);
      should(outcome.sms?.maybeSent).equal(false);
      should(secure.requests).be.empty();
      await refusing.sync();
      should(targets(refusing.seen)).eql([`CONNECT 127.0.0.1:${new URL(secure.url).port} 502`, `CONNECT 127.0.0.1:${new URL(secure.url).port} 502`]);
      await statusesOnce(red, /proxy refused \(HTTP 502\)/);
    });

    it('a proxy out of reach: the SMS not sent, an error naming the proxy', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      await deploy(red, { resthost: secure.url, proxy: 'px' }, [proxyNode('px', dead)]);
      const outcome = await sendSms(red);
      should(outcome.event).equal('failed');
      should(outcome.error)
        .containEql(dead)
        .and.match(/ECONNREFUSED/)
        .and.match(/not sent/);
      should(outcome.sms?.maybeSent).equal(false);
      should(secure.requests).be.empty();
      await statusesOnce(red, /cannot reach the proxy \(ECONNREFUSED\)/);
    });

    it('a proxy URL that is not http:// is a configuration error of the account, shown by Send SMS', async () => {
      await deploy(red, { resthost: secure.url, proxy: 'px' }, [proxyNode('px', `https://127.0.0.1:${new URL(guarded.url).port}`)]);
      const outcome = await sendSms(red);
      should(outcome.event).equal('failed');
      should(outcome.error)
        .containEql(`https://127.0.0.1:${new URL(guarded.url).port}`)
        .and.match(/not an http:\/\/ URL/);
      should(secure.requests).be.empty();
      // Its status says what is wrong: the proxy (not "no credentials").
      await statusesOnce(red, /proxy/);
    });

    it('Check credentials through an http proxy node whose URL is not http:// blames the proxy', async () => {
      const https = `https://127.0.0.1:${new URL(guarded.url).port}`;
      await deploy(red, { resthost: secure.url }, [proxyNode('pxHttps', https)]);
      const answer = await check(red, { id: 'cfg', api: 'sms', apikey: API_KEY, apisecret: API_SECRET, resthost: secure.url, proxy: 'pxHttps' });
      should(answer.ok).be.false();
      should(answer.error)
        .containEql(https)
        .and.match(/not an http:\/\/ URL/);
      should(answer.blame).equal('proxy');
    });

    it('Check credentials goes through the http proxy node chosen, and blames the proxy when it refuses', async () => {
      await deploy(red, { resthost: secure.url }, [
        proxyNode('pxGood', guarded.url, { username: PROXY_USER, password: PROXY_PASSWORD }),
        proxyNode('pxBad', guarded.url, { username: PROXY_USER, password: WRONG_PASSWORD }),
      ]);
      const body = { id: 'cfg', api: 'sms', apikey: API_KEY, apisecret: API_SECRET, resthost: secure.url };
      should(await check(red, { ...body, proxy: 'pxGood' })).have.properties({ ok: true, balance: 1000 });
      const refused = await check(red, { ...body, proxy: 'pxBad' });
      should(refused).have.properties({ ok: false, blame: 'proxy' });
      should(refused.error).containEql(guarded.url).and.match(/407/);
      should(JSON.stringify(refused)).not.containEql(WRONG_PASSWORD);
      await guarded.sync();
      should(guarded.connects.map((e) => `${e.auth} ${e.status}`)).eql(['ok 200', 'wrong 407']);
      await refusing.sync();
      should(refusing.seen).be.empty();
    });

    it("checks the stored secret only through the deployed account's proxy: another proxy chosen in the dialog is refused before anything is sent", async () => {
      await deploy(red, { resthost: secure.url, proxy: 'pxGood' }, [proxyNode('pxGood', guarded.url, { username: PROXY_USER, password: PROXY_PASSWORD }), proxyNode('pxOther', refusing.url)]);
      guarded.clear();
      refusing.clear();
      // The dialog shows the stored secret as its placeholder: the check uses the deployed one.
      const stored = { id: 'cfg', api: 'sms', apikey: API_KEY, apisecret: '__PWRD__', resthost: secure.url };
      const elsewhere = await check(red, { ...stored, proxy: 'pxOther' });
      should(elsewhere).have.properties({ ok: false, blame: 'proxy' });
      should(elsewhere.error).match(/not the deployed node's/);
      const none = await check(red, { ...stored, proxy: '' });
      should(none).have.properties({ ok: false, blame: 'proxy' });
      should(await check(red, { ...stored, proxy: 'pxGood' })).have.properties({ ok: true, balance: 1000 });
      await Promise.all([guarded.sync(), refusing.sync()]);
      should(refusing.seen).be.empty();
      should(guarded.connects.map((e) => `${e.auth} ${e.status}`)).eql(['ok 200']);
      // A secret typed again may be checked through any proxy: it is the person's own.
      const typed = await check(red, { ...stored, apisecret: API_SECRET, proxy: 'pxOther' });
      should(typed).have.properties({ ok: false, blame: 'proxy' });
      should(typed.error).match(/HTTP 502/);
    });
  });
});
