/**
 * The `nexmobasic` config node: a Vonage API key and secret, the API and its host, a default country,
 * limits, opt-out settings and where the account's state lives. When the flows start it resolves the
 * account once (account/accountNode.ts): the client for its API, its state (memory, or Redis), its
 * opt-out policy and the send queue every Send SMS node that selects it shares. A redeploy builds new ones.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { AccountError, type NexmoBasicCredentials, type NexmoBasicNode, type OptOutPolicy } from './account/accountNode';
import { numberSetting as setting } from './node-red/settings';
import { countryOf, isCountryCode, normaliseNumber } from './sms/phoneNumber';
import { SIGNATURE_METHODS, type SignatureMethod } from './vonage/smsSignature';
import { DEFAULT_QUEUE_OPTIONS, SendQueue } from './sending/sendQueue';
import { MemoryRateLimiter } from './sending/rateLimiter';
import { SharedRateLimiter } from './sending/sharedRateLimiter';
import { CheckError, type VonageClient } from './vonage/client';
import { DEFAULT_REST_HOST, isRestHost } from './vonage/smsClient';
import { DEFAULT_MESSAGES_HOST } from './vonage/messagesClient';
import { vonageClient } from './vonage/vonageClient';
import { pricingHost, SmsPricing } from './vonage/pricing';
import type { AccountState } from './state/accountState';
import { MemoryAccountState } from './state/memoryAccountState';
import { COMMAND_TIMEOUT_MS, isRedisUrl, RedisAccountState } from './state/redisAccountState';
import { registerAccount, registerState } from './account/registry';
import { openOptOutFile, optOutFileFor } from './state/optOutFile';
import { DEFAULT_KEYWORDS, keywordList } from './sms/optOut';
import { throttledWarnings, times } from './node-red/warnings';
import { spendLimits } from './sms/spendLimits';
import { SpendError, SpendGuard } from './sending/spendGuard';
import { proxyFor, proxyFromEnvironment, proxyFromNode, type HttpProxyNode, type ProxySettings } from './vonage/proxy';

interface NexmoBasicDef extends NodeDef {
  /** "sms" (the SMS API: the default, and what a flow without the property means) or "messages". */
  api?: string;
  resthost?: string;
  country?: string;
  timeout?: string | number;
  /** Requests per second for the account (Vonage's default limit is 30). */
  rate?: string | number;
  /** Requests per second from one sender; empty or 0 for none. */
  senderrate?: string | number;
  /** SMS waiting at most before new ones are refused. */
  queuesize?: string | number;
  /** Retries after a transient failure. */
  retries?: string | number;
  /** How Vonage signs webhooks: md5hash, md5, sha1, sha256 or sha512 (the dashboard's "signature method"). */
  sigmethod?: string;
  /** Honour opt-outs: absent or true = on (every flow is protected without a setting), false = off. */
  optout?: boolean | string;
  /** Comma-separated keywords; empty for the defaults (DEFAULT_KEYWORDS). */
  stopwords?: string;
  startwords?: string;
  helpwords?: string;
  /** The confirmation SMS in sends for each keyword; empty for none. */
  stopreply?: string;
  startreply?: string;
  helpreply?: string;
  /** Confirmations sent at most in any hour, across instances with a Shared state; absent = 60, 0 = none. */
  replylimit?: string | number;
  /** Spend limits (issue 25): allowed destination countries, daily budgets in parts and money, their time zone, SMS to one number an hour. */
  countries?: string;
  dailyparts?: string | number;
  dailyspend?: string | number;
  budgettz?: string;
  perrecipient?: string | number;
  /** The id of a core `http proxy` config node every request to Vonage goes through; empty for the environment's https_proxy/http_proxy/no_proxy. */
  proxy?: string;
}

/** Opt-out confirmations an hour when the flow does not say. */
const DEFAULT_REPLY_LIMIT = 60;

const DEFAULT_TIMEOUT_SECONDS = 10;
/** A field that is exactly ${NAME}: Node-RED reads it from the environment when the node is deployed. */
const ENV_REFERENCE = /^\$\{\S+\}$/;
const withoutSlash = (host: string) => host.replace(/\/+$/, '');
/** The longest number the price endpoint reads: no number needs more, written with spaces. */
const MAX_PRICE_NUMBER = 20;

export = function (RED: NodeAPI) {
  function NexmoBasic(this: Node<NexmoBasicCredentials>, config: NexmoBasicDef) {
    RED.nodes.createNode(this, config);
    const node = this as NexmoBasicNode;
    const api = config.api === 'messages' ? 'messages' : 'sms';
    node.api = api;
    // A flow from node-red-contrib-nexmo has no API host: VONAGE_REST_HOST, then Vonage's own. The SMS
    // API's host left as it was when the API was switched means the Messages API's own.
    const typedHost = (config.resthost ?? '').trim();
    const defaultHost = api === 'messages' ? DEFAULT_MESSAGES_HOST : DEFAULT_REST_HOST;
    const restHost = (api === 'messages' && typedHost.replace(/\/+$/, '') === DEFAULT_REST_HOST ? '' : typedHost) || process.env.VONAGE_REST_HOST?.trim() || defaultHost;
    const timeoutSeconds = setting(config.timeout, DEFAULT_TIMEOUT_SECONDS, 0.001);
    node.country = (config.country ?? '').trim().toUpperCase();
    node.restHost = restHost;
    // A Redis that flaps would warn at every drop: once a minute, with the count.
    const warnings = throttledWarnings((line) => node.warn(line));

    const apiKey = node.credentials?.apikey?.trim();
    const apiSecret = node.credentials?.apisecret;
    const timeoutMs = timeoutSeconds * 1000;
    node.proxyNode = (config.proxy ?? '').trim();
    const proxy = proxySettings(node.proxyNode);

    function resolveClient(): VonageClient | Error {
      if (!apiKey) return new AccountError(RED._('nexmobasic.errors.no-apikey'), 'no-creds');
      if (!apiSecret) return new AccountError(RED._('nexmobasic.errors.no-apisecret'), 'no-creds');
      if (!isRestHost(restHost)) return new Error(RED._('nexmobasic.errors.bad-resthost', { resthost: restHost }));
      if (node.country && !isCountryCode(node.country)) return new Error(RED._('nexmobasic.errors.bad-country', { country: node.country }));
      const applicationId = api === 'messages' ? node.credentials?.appid?.trim() : undefined;
      const privateKey = api === 'messages' ? node.credentials?.privatekey : undefined;
      if (!!applicationId !== !!privateKey?.trim()) return new Error(RED._('nexmobasic.errors.jwt-half'));
      if (proxy instanceof Error) return proxy;
      try {
        proxyFor(restHost, proxy);
      } catch (err) {
        return new AccountError(`the Vonage account: ${(err as Error).message}`, 'bad-proxy');
      }
      try {
        return vonageClient({ api, apiKey, apiSecret, host: restHost, timeoutMs, applicationId, privateKey, proxy });
      } catch (err) {
        return new Error(`the Vonage account: ${(err as Error).message}`);
      }
    }

    // Memory (this Node-RED alone) unless a Redis URL is set: then shared by every instance, and by
    // every config node, with the same API key. Connected now; it reconnects by itself.
    let unregister = () => {};
    let releaseOptOuts = async () => {};
    function resolveState(): AccountState | Error {
      const url = node.credentials?.redisurl?.trim();
      if (!url) {
        // The opt-out list in a file of Node-RED's user directory, shared by the config nodes of this API key.
        const userDir = (RED.settings as { userDir?: string }).userDir;
        if (!apiKey || !userDir) return new MemoryAccountState();
        try {
          const file = openOptOutFile(optOutFileFor(userDir, apiKey));
          releaseOptOuts = file.release;
          // A list a person wrote or edited: every readable number was loaded, the rest is named.
          const journal = file.list;
          if (journal.unreadableCount > 0 && !journal.unreadableReported) {
            journal.unreadableReported = true;
            const more = journal.unreadableCount - journal.unreadable.length;
            node.warn(RED._('nexmobasic.warn.optout-file-unreadable', { file: journal.file, count: journal.unreadableCount, lines: journal.unreadable.join(', ') + (more > 0 ? ` (+${more})` : '') }));
          }
          return new MemoryAccountState(file.list);
        } catch (err) {
          return new Error(RED._('nexmobasic.errors.optout-file', { error: (err as Error).message }));
        }
      }
      if (!apiKey) return new AccountError(RED._('nexmobasic.errors.no-apikey'), 'no-creds');
      if (!isRedisUrl(url)) return new Error(RED._('nexmobasic.errors.bad-redisurl'));
      const redis = new RedisAccountState(url, apiKey);
      redis.on('down', (err: Error) => warnings.warn('state-down', (count) => RED._('nexmobasic.warn.state-down', { error: err.message, timeout: timeoutSeconds }) + times(count)));
      redis.on('up', () => node.log(RED._('nexmobasic.log.state-up', { where: redis.where })));
      // A Redis that answers, but slowly, fails nothing at first: said once a minute, with the slowest command.
      let slowest = 0;
      redis.on('slow', (ms: number) => {
        slowest = Math.max(slowest, ms);
        warnings.warn('state-slow', (count) => {
          const seconds = (slowest / 1000).toFixed(1);
          slowest = 0;
          return RED._('nexmobasic.warn.state-slow', { where: redis.where, seconds, count, timeout: COMMAND_TIMEOUT_MS / 1000 });
        });
      });
      unregister = registerState(apiKey, redis);
      return redis;
    }

    const honoured = config.optout !== false && config.optout !== 'false';
    function resolveOptOuts(state: AccountState): OptOutPolicy {
      const replies = { stop: config.stopreply?.trim(), start: config.startreply?.trim(), help: config.helpreply?.trim() };
      return {
        list: state.optOuts(),
        honoured,
        keywords: {
          stop: keywordList(config.stopwords, DEFAULT_KEYWORDS.stop),
          start: keywordList(config.startwords, DEFAULT_KEYWORDS.start),
          help: keywordList(config.helpwords, DEFAULT_KEYWORDS.help),
        },
        replies: Object.fromEntries(Object.entries(replies).filter(([, text]) => text)),
        replyLimit: Math.floor(setting(config.replylimit, DEFAULT_REPLY_LIMIT)),
      };
    }

    function resolveGuard(state: AccountState, pricing: SmsPricing | Error): SpendGuard | Error {
      // The money budget's estimates: each part at the destination's dearest network (pricing.ts).
      const prices = pricing instanceof Error ? undefined : (country: string) => pricing.price(country).then(({ perPart, currency }) => ({ perPart, currency }));
      try {
        return new SpendGuard(spendLimits(config), state.spendLedger(), prices);
      } catch (err) {
        return new Error(`the Vonage account's spend limits: ${(err as Error).message}`);
      }
    }

    function resolveQueue(client: VonageClient, state: AccountState, guard: SpendGuard | Error): SendQueue | Error {
      if (guard instanceof Error) return guard;
      const ratePerSecond = setting(config.rate, DEFAULT_QUEUE_OPTIONS.ratePerSecond);
      const perSenderPerSecond = setting(config.senderrate, DEFAULT_QUEUE_OPTIONS.perSenderPerSecond);
      // The shared state keeps both rates for every instance when it can; else this Node-RED keeps them.
      const slots = state.sendSlots(ratePerSecond, perSenderPerSecond);
      return new SendQueue(client, {
        ratePerSecond,
        perSenderPerSecond,
        maxQueued: setting(config.queuesize, DEFAULT_QUEUE_OPTIONS.maxQueued, 1),
        maxRetries: setting(config.retries, DEFAULT_QUEUE_OPTIONS.maxRetries),
        backoffMs: DEFAULT_QUEUE_OPTIONS.backoffMs,
        limiter: slots ? new SharedRateLimiter(slots, ratePerSecond) : new MemoryRateLimiter(ratePerSecond, perSenderPerSecond),
        optOuts: honoured ? state.optOuts() : undefined,
        stateWaitMs: timeoutMs,
        // With a shared state, each waiting SMS is journalled there, for another instance to send if this one dies.
        journal: state.sendJournal(),
        guard,
      });
    }

    function resolvePricing(settings: ProxySettings): SmsPricing | Error {
      try {
        return new SmsPricing({ apiKey: apiKey!, apiSecret: apiSecret!, host: pricingHost(api, restHost), timeoutMs, proxy: settings });
      } catch (err) {
        return new Error(`the Vonage account: ${(err as Error).message}`);
      }
    }

    const sigmethod = (SIGNATURE_METHODS as string[]).includes(config.sigmethod ?? '') ? (config.sigmethod as SignatureMethod) : 'md5hash';
    const sigsecret = node.credentials?.sigsecret;
    const client = resolveClient();
    const state = resolveState();
    // The Pricing API with the same key and secret, on the account API's host (pricing.ts, pricingHost).
    const pricing = client instanceof Error ? client : proxy instanceof Error ? proxy : resolvePricing(proxy);
    const spend = state instanceof Error ? undefined : resolveGuard(state, pricing);
    const queue = client instanceof Error ? client : state instanceof Error ? state : resolveQueue(client, state, spend!);
    // A budget used up: one warning (then once a minute, with the count), beside each Send SMS node's status.
    if (!(queue instanceof Error)) {
      queue.on('journal-left-behind', (count: number) => node.warn(RED._('nexmobasic.warn.journal-left-behind', { count })));
      queue.on('refused', (err: SpendError) => {
        if (err.limit === 'parts' || err.limit === 'money') warnings.warn(`spent-${err.limit}`, (count) => err.message + times(count));
      });
    }
    Object.assign(node, {
      client,
      pricing,
      state,
      optOuts: state instanceof Error ? state : resolveOptOuts(state),
      sendQueue: queue,
      spend,
      signature: sigsecret ? { secret: sigsecret, method: sigmethod } : undefined,
    });
    const unregisterAccount = apiKey ? registerAccount(apiKey, node) : () => {};

    // In-flight requests finish; whatever still waits (a Send SMS node has not cancelled it) fails, counted once.
    node.on('close', (_removed: boolean, done: () => void) => {
      warnings.close();
      const closeState = async () => {
        if (!(client instanceof Error)) client.close();
        if (!(pricing instanceof Error)) pricing.close();
        unregister();
        unregisterAccount();
        if (!(state instanceof Error)) await state.close();
        await releaseOptOuts();
      };
      if (queue instanceof Error) {
        Promise.resolve(closeState()).then(
          () => done(),
          () => done(),
        );
        return;
      }
      queue.close(RED._('nexmobasic.errors.stopped')).then(async (count) => {
        if (count > 0) node.warn(RED._('nexmobasic.warn.queued-failed', { count }));
        await closeState();
        done();
      }, done);
    });
  }

  /**
   * The proxy every request of an account goes through: the `http proxy` config node it names (which wins),
   * else the environment's variables. An Error, in words, when the node named is not deployed or has no URL.
   */
  function proxySettings(id: string): ProxySettings | Error {
    if (!id) return proxyFromEnvironment();
    const found = RED.nodes.getNode(id) as (Node & HttpProxyNode) | null;
    if (found?.type !== 'http proxy') return new AccountError(RED._('nexmobasic.errors.no-proxy-node', { id: id.slice(0, 64) }), 'bad-proxy');
    try {
      return proxyFromNode(found);
    } catch (err) {
      return new AccountError(`the Vonage account: ${(err as Error).message}`, 'bad-proxy');
    }
  }

  /**
   * "Check credentials" in the editor: asks the account balance with the key and secret as typed,
   * or as deployed when the dialog still shows the secret's placeholder. Answers with the balance or
   * the error in words; secrets never travel back to the browser. What is typed is sent as typed:
   * only the deployed node's own credentials have ${NAME} read from the environment (by Node-RED,
   * at deploy). A deployed secret goes only to the deployed API host, never to a host the request names.
   */
  RED.httpAdmin.post('/nexmobasic/check', RED.auth.needsPermission('nexmobasic.write'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const found = text(body.id) ? (RED.nodes.getNode(text(body.id)) as NexmoBasicNode | null) : null;
    const deployed = found?.type === 'nexmobasic' ? found : undefined;
    const typedKey = text(body.apikey).trim();
    const typedSecret = text(body.apisecret);
    // An empty field, the secret's placeholder or a ${NAME} mean the deployed node's value.
    const keyFromDeployed = !typedKey || ENV_REFERENCE.test(typedKey);
    const secretFromDeployed = !typedSecret || typedSecret === '__PWRD__' || ENV_REFERENCE.test(typedSecret);
    const apiKey = keyFromDeployed ? (deployed?.credentials?.apikey?.trim() ?? '') : typedKey;
    const apiSecret = secretFromDeployed ? (deployed?.credentials?.apisecret ?? '') : typedSecret;
    const messages = body.api === 'messages';
    const typedHost = withoutSlash(text(body.resthost).trim());
    const restHost = withoutSlash((messages && typedHost === DEFAULT_REST_HOST ? '' : typedHost) || process.env.VONAGE_REST_HOST?.trim() || (messages ? DEFAULT_MESSAGES_HOST : DEFAULT_REST_HOST));
    // Messages API with JWT: the Application ID as typed (else deployed), the private key as typed (else deployed).
    const typedAppId = text(body.appid).trim();
    const typedPrivateKey = text(body.privatekey);
    const privateKeyFromDeployed = !typedPrivateKey.trim() || typedPrivateKey === '__PWRD__';
    const applicationId = messages ? typedAppId || (deployed?.credentials?.appid?.trim() ?? '') : '';
    const privateKey = messages && applicationId ? (privateKeyFromDeployed ? (deployed?.credentials?.privatekey ?? '') : typedPrivateKey) : '';
    // The proxy chosen in the dialog (a deployed http proxy node), else the environment's.
    const typedProxy = text(body.proxy).trim() === '_ADD_' ? '' : text(body.proxy).trim();
    // `blame` tells the editor whether to say the credentials, the API host or the proxy do not work.
    const fail = (error: string, blame: 'credentials' | 'host' | 'proxy' = 'credentials') => res.json({ ok: false, error, blame });
    if (!deployed && (ENV_REFERENCE.test(typedKey) || ENV_REFERENCE.test(typedSecret))) return fail(RED._('nexmobasic.errors.check-env'));
    if (!apiKey) return fail(RED._('nexmobasic.errors.no-apikey'));
    if (!apiSecret) return fail(RED._('nexmobasic.errors.no-apisecret'));
    if (!isRestHost(restHost)) return fail(RED._('nexmobasic.errors.bad-resthost', { resthost: restHost }), 'host');
    if ((secretFromDeployed || (privateKey && privateKeyFromDeployed)) && deployed && restHost !== withoutSlash(deployed.restHost)) {
      return fail(RED._('nexmobasic.errors.check-other-host', { resthost: restHost, deployed: deployed.restHost }), 'host');
    }
    // Nor through another proxy than the deployed one: a proxy sees what goes to a plain-HTTP host.
    if ((secretFromDeployed || (privateKey && privateKeyFromDeployed)) && deployed && typedProxy !== deployed.proxyNode) return fail(RED._('nexmobasic.errors.check-other-proxy'), 'proxy');
    const proxy = proxySettings(typedProxy);
    if (proxy instanceof Error) return fail(proxy.message, 'proxy');
    // A proxy URL that cannot be used (https://, socks5://, not a URL) is the proxy's fault, not the credentials'.
    try {
      proxyFor(restHost, proxy);
    } catch (err) {
      return fail((err as Error).message, 'proxy');
    }
    if (messages && applicationId && !privateKey) return fail(RED._('nexmobasic.errors.jwt-half'));
    let client: VonageClient | undefined;
    try {
      client = vonageClient({ api: messages ? 'messages' : 'sms', apiKey, apiSecret, host: restHost, timeoutMs: DEFAULT_TIMEOUT_SECONDS * 1000, applicationId, privateKey, proxy });
      return res.json({ ok: true, ...(await client.check()) });
    } catch (err) {
      // A private key that cannot be read blames the credentials; the client says whom else.
      return fail((err as Error).message, err instanceof CheckError ? err.blame : 'credentials');
    } finally {
      client?.close();
    }
  });

  /**
   * The price of an SMS part to a number, for the Send SMS dialog's counter: `GET nexmobasic/:id/price?to=…`
   * for a deployed config node, from its Pricing API lookup (kept a day). Answers `{country, countryName,
   * currency, perPart}`, or `{error}` (400 for a bad number, 404 for no such deployed node, 502 when the
   * price is not known); never a credential. Reading a price needs the permission to read the config node.
   */
  RED.httpAdmin.get('/nexmobasic/:id/price', RED.auth.needsPermission('nexmobasic.read'), async (req, res) => {
    const id = typeof req.params.id === 'string' ? req.params.id : '';
    const to = typeof req.query.to === 'string' ? req.query.to : '';
    // A number, as typed: at most 20 characters of digits, spaces, + ( ) . - /.
    if (!to || to.length > MAX_PRICE_NUMBER || !/^[0-9+\s().\-/]+$/.test(to)) return res.status(400).json({ error: RED._('nexmobasic.errors.price-bad-number') });
    const found = id && id.length <= 64 ? (RED.nodes.getNode(id) as NexmoBasicNode | null) : null;
    if (found?.type !== 'nexmobasic' || !found.pricing) return res.status(404).json({ error: RED._('nexmobasic.errors.price-not-deployed') });
    let country: string | undefined;
    try {
      country = countryOf(normaliseNumber(to, 'To', found.country || undefined));
    } catch (err) {
      return res.status(400).json({ error: (err as Error).message });
    }
    if (!country) return res.status(400).json({ error: RED._('nexmobasic.errors.price-no-country') });
    if (found.pricing instanceof Error) return res.status(502).json({ error: found.pricing.message });
    try {
      const { countryName, currency, perPart } = await found.pricing.price(country);
      return res.json({ country, countryName, currency, perPart });
    } catch (err) {
      return res.status(502).json({ error: (err as Error).message });
    }
  });

  RED.nodes.registerType<Node<NexmoBasicCredentials>, NexmoBasicDef, object, NexmoBasicCredentials>('nexmobasic', NexmoBasic, {
    credentials: {
      apikey: { type: 'text' },
      apisecret: { type: 'password' },
      sigsecret: { type: 'password' },
      redisurl: { type: 'password' },
      appid: { type: 'text' },
      privatekey: { type: 'password' },
    },
  });
};
