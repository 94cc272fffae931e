/**
 * The way to Vonage through a company's HTTP proxy: which proxy, if any, a request to an API host takes,
 * decided as Node-RED's own `http request` node decides it (core's network/lib/proxyHelper.js), and the
 * error a proxy's refusal comes to. The proxy is the account's `http proxy` config node when it names one
 * (its URL, no-proxy list, user and password), else the environment's https_proxy / http_proxy and
 * no_proxy (the lower-case name first, then the upper-case one). Only http:// proxies: HTTPS to Vonage
 * goes through them in a CONNECT tunnel (apiConnection.ts). Redis needs none: it is TCP on the local network.
 *
 * A proxy's user and password go into the Proxy-Authorization header and nowhere else: a proxy is named in
 * words by its `label`, its URL without them.
 */
import net from 'node:net';

/** Where an account's proxy comes from, as read when the account starts. */
export interface ProxySettings {
  /** The proxy for an https:// API host, and for an http:// one: a URL, or '' for none. */
  https: string;
  http: string;
  /** Hosts reached without the proxy: names, `.domain` or `*.domain`, `*`, host:port, CIDR (IP hosts). */
  noProxy: string[];
  /** From an `http proxy` config node's credentials: they win over a user:password in the URL. */
  username?: string;
  password?: string;
  /** For errors: where the settings came from ("the environment's https_proxy", "the http proxy node …"). */
  source: string;
}

/** The proxy one API host is reached through. */
export interface Proxy {
  /** Host name or IP address (an IPv6 address without brackets), and port (80 when the URL has none). */
  host: string;
  port: number;
  /** Its URL without user and password, for words: `http://proxy.example.com:3128`. */
  label: string;
  /** `Basic …` for the Proxy-Authorization header, when the proxy has a user. */
  authorization?: string;
}

/** The environment's proxy variables, as Node-RED reads them: lower case first, then upper case. */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const read = (name: string) => (env[name] || env[name.toUpperCase()] || '').trim();
  return { https: read('https_proxy'), http: read('http_proxy'), noProxy: listOf(read('no_proxy')), source: "the environment's proxy variables (https_proxy, http_proxy)" };
}

/** Core's `http proxy` config node as deployed: `url`, `noproxy` (a list), credentials `username`, `password`. */
export interface HttpProxyNode {
  name?: unknown;
  url?: unknown;
  noproxy?: unknown;
  credentials?: { username?: unknown; password?: unknown };
}

/** An `http proxy` node's settings; throws an Error when it has no URL. */
export function proxyFromNode(node: HttpProxyNode): ProxySettings {
  const url = typeof node.url === 'string' ? node.url.trim() : '';
  const name = typeof node.name === 'string' && node.name.trim() ? ` "${node.name.trim().slice(0, 60)}"` : '';
  const source = `the http proxy node${name}`;
  if (!url) throw new Error(`${source} has no URL`);
  const noProxy = Array.isArray(node.noproxy) ? node.noproxy.filter((entry): entry is string => typeof entry === 'string') : typeof node.noproxy === 'string' ? listOf(node.noproxy) : [];
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return { https: url, http: url, noProxy: noProxy.map((entry) => entry.trim()).filter(Boolean), username: text(node.credentials?.username), password: text(node.credentials?.password), source };
}

function listOf(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * The proxy for requests to `target` (an API host: `https://rest.nexmo.com`), or undefined to go direct:
 * no proxy for its scheme, or the host is on the no-proxy list. Throws an Error, naming no credential, for
 * a proxy URL that cannot be used.
 */
export function proxyFor(target: string, settings: ProxySettings | undefined): Proxy | undefined {
  if (!settings) return undefined;
  const url = new URL(target);
  const secure = url.protocol === 'https:';
  const given = secure ? settings.https : settings.http;
  if (!given) return undefined;
  const port = Number(url.port) || (secure ? 443 : 80);
  if (bypassed(url.hostname.toLowerCase(), port, settings.noProxy)) return undefined;
  return proxyOf(given, settings);
}

function proxyOf(given: string, settings: ProxySettings): Proxy {
  let url: URL;
  try {
    // A proxy written without a scheme (proxy.example.com:3128) is an http:// one: Node-RED would give it the
    // request's scheme, but an HTTPS request goes through an http:// proxy in a tunnel, the common case.
    url = new URL(given.includes('://') ? given : `http://${given}`);
  } catch {
    throw new Error(`the proxy set by ${settings.source} is not a URL (write it as http://host:port)`);
  }
  const label = `${url.protocol}//${url.host}`;
  if (url.protocol !== 'http:') throw new Error(`the proxy ${label}, set by ${settings.source}, is not an http:// URL: only HTTP proxies are supported (HTTPS to Vonage goes through one in a tunnel)`);
  if (!url.hostname) throw new Error(`the proxy set by ${settings.source} has no host (write it as http://host:port)`);
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  // An http proxy node's user or password replaces both of the URL's, as Node-RED's http request node does.
  const fromNode = settings.username !== undefined || settings.password !== undefined;
  const username = fromNode ? (settings.username ?? '') : decode(url.username);
  const password = fromNode ? (settings.password ?? '') : decode(url.password);
  const authorization = username || password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || 80, label, authorization };
}

/**
 * Whether a no-proxy list sends `hostname:port` direct, by Node-RED's rules: `*` for every host; a name
 * alone for that host; `.domain` or `*.domain` for the hosts under it (not the domain itself); `:port`
 * after any of them for that port only. And, for a host written as an IP address, a CIDR block.
 */
export function bypassed(hostname: string, port: number, noProxy: string[]): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const family = net.isIP(bare);
  return noProxy.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (!entry) return false;
    if (entry === '*') return true;
    if (entry.includes('/')) return family !== 0 && inBlock(bare, family, entry);
    // host:port, but not a bare IPv6 address (more than one colon and no brackets).
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const hostPart = withPort && !(entry.split(':').length > 2 && !entry.startsWith('[')) ? withPort[1] : entry;
    if (hostPart !== entry && Number(withPort![2]) !== port) return false;
    if (hostPart.startsWith('*') || hostPart.startsWith('.')) return hostname.endsWith(hostPart.replace(/^\*/, ''));
    return hostPart === hostname || hostPart.replace(/^\[|\]$/g, '') === bare;
  });
}

function inBlock(address: string, family: number, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  const baseFamily = net.isIP(base);
  if (baseFamily !== family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return false;
  const block = new net.BlockList();
  block.addSubnet(base, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return block.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The proxy did not carry the request: it refused the tunnel or the request (`status`: 407 for a missing
 * or wrong user and password, 403, 502 when it could not reach Vonage…), or could not be reached (`code`).
 * Nothing reached Vonage: the SMS was not sent.
 */
export class ProxyError extends Error {
  /** ApiConnection's mark: the request was not written to Vonage. */
  readonly written = false;

  constructor(
    message: string,
    /** The proxy's label (its URL without credentials). */
    readonly proxy: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ProxyError';
  }

  static refused(proxy: Proxy, target: string, status: number, statusText = ''): ProxyError {
    const why =
      status === 407
        ? ': it asks for a user and password, and those given are missing or wrong'
        : status === 403
          ? `: it does not allow connections to ${target}`
          : status === 502 || status === 503 || status === 504
            ? `: it could not reach ${target}`
            : '';
    return new ProxyError(`the proxy ${proxy.label} refused to carry the request to ${target} (HTTP ${status}${statusText ? ` ${statusText.slice(0, 60)}` : ''}${why})`, proxy.label, status);
  }

  static unreachable(proxy: Proxy, code: string | undefined): ProxyError {
    return new ProxyError(`could not connect to the proxy ${proxy.label}${code ? ` (${code})` : ''}`, proxy.label, undefined, code);
  }

  static noTunnel(proxy: Proxy, target: string, seconds: number): ProxyError {
    return new ProxyError(`the proxy ${proxy.label} opened no connection to ${target} within ${seconds} s`, proxy.label, undefined, 'CONNECT_TIMEOUT');
  }
}
