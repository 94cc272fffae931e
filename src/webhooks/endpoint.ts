/**
 * A Vonage webhook on Node-RED's HTTP node server (RED.httpNode, like `http in`), for SMS in and
 * SMS receipt. It takes every form Vonage may use (GET query, POST form, POST JSON; query and
 * body merged), checks the signature when the node names a signing `nexmobasic`, checks every
 * field (webhookFields.ts), and answers at once, before the flow runs, since Vonage retries anything
 * slow: 401 for an unsigned, altered or stale request, 503 while the signing node is missing, 400 for
 * a bad or missing field, 413 for an oversize body, 408 for a body that never finishes, else 200.
 *
 * Node-RED has two layouts: the admin API and the HTTP nodes on different roots, or on one (the
 * default), where the admin API's body parser would read JSON and form bodies first (up to 5 MB, and
 * inflating gzip). A listener on Node-RED's HTTP server, ahead of Express, marks a request to a webhook
 * path so that the parser leaves it unread (`leaveBodyUnread`): on both layouts the body is read here,
 * as bytes, up to the limit, and a signature is checked over the bytes received. Vonage does not
 * compress webhooks: a body with a Content-Encoding is refused with 415 before anything inflates it.
 * Should the body come parsed all the same (another parser in httpNodeMiddleware), the parsed body is
 * taken and its size checked, and a body the admin parser refused is answered here too
 * (answerBodyParserErrors), so that both layouts answer alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode } from '../account/accountNode';
import { SharedStateError } from '../state/accountState';
import { numberSetting } from '../node-red/settings';
import { verifySignature } from '../vonage/smsSignature';
import { checkWebhookFields, type WebhookParams, type WebhookSchema } from '../sms/webhookFields';
import { checkMessagesWebhook, isMessagesWebhook, legacyFieldsOf, type MessagesBody, type MessagesKind } from '../vonage/messagesWebhooks';
import { verifyMessagesSignature } from '../vonage/messagesSignature';

export type { WebhookParams };

export type RejectReason = 'unsigned' | 'stale' | 'mismatch' | 'unconfigured';

export interface WebhookOptions {
  url: string;
  /** The fields a request may and must carry. */
  schema: WebhookSchema;
  /**
   * The node's "Signed by": undefined when none is chosen (requests are not signed), the config
   * node when it is, null when the chosen one is missing or disabled. A chosen node without a
   * signature secret, or a missing one, refuses every request with 503: fail closed, and let Vonage retry.
   */
  signedBy: NexmoBasicNode | null | undefined;
  /** How far a signed request's timestamp may be from now. */
  signatureWindowSeconds: number;
  maxBodyBytes: number;
  /**
   * The Messages API webhook this node also takes, on the same URL (POST JSON with message_uuid and
   * channel): SMS in takes 'inbound', SMS receipt 'status'.
   */
  messages?: MessagesKind;
  /**
   * A request that passed every check. The 200 goes back once it has returned (or its promise has
   * resolved): a SharedStateError answers 503 instead, so that Vonage retries, any other error 500.
   * A Messages API webhook comes with its body as sent; `params` then has the SMS API's names for
   * what the node uses (msisdn, to, text, messageId, status, err-code).
   */
  accepted(params: WebhookParams, messages?: MessagesBody): void | Promise<void>;
  /** A Messages API webhook of another channel (WhatsApp, MMS…): answered 200, not passed on. */
  otherChannel?(channel: string): void;
  /** A request refused for its signature: counted and warned about by the node. */
  rejected(reason: RejectReason, from: string): void;
  /**
   * Another node serves the same path: it takes every request ('shadowed'), or this one takes them
   * all from it ('shadowing'). Checked each time the flows start.
   */
  shared?(how: 'shadowed' | 'shadowing', others: number): void;
}

/** How long a client may take to send its body, unless settings.js says otherwise (`vonageSmsWebhookBodyTimeout`, ms). */
const BODY_TIMEOUT_MS = 10_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type ErrorHandler = (err: unknown, req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void) => void;
type RouteHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
/** What this module uses of an Express app: its public methods (no router internals, which Express 5 changed). */
type ExpressLike = {
  get(path: string, handler: RouteHandler): void;
  post(path: string, handler: RouteHandler): void;
  use(handler: ErrorHandler): void;
  parent?: ExpressLike;
};

/**
 * One route per webhook path on each HTTP-node app, registered when the first node serves the path and
 * never removed: it hands each request to the first node that serves the path now, and with none, on to
 * whatever else does (an `http in` deployed since). Express hands a request to the first route that
 * matches, so an `http in` whose route was there before this one takes every request (`before`).
 */
interface PathRoute {
  /** The webhook nodes' handlers, in the order they started serving the path. */
  handlers: Handler[];
  /** The `http in` nodes (their instances) that served the path when the route was registered. */
  before: WeakSet<object>;
}
const routes = new WeakMap<object, Map<string, PathRoute>>();

/** The running `http in` nodes that take GET or POST requests to this path. */
function httpInNodes(RED: NodeAPI, key: string): object[] {
  const found: object[] = [];
  const nodes = RED.nodes as unknown as { eachNode?(visit: (config: { id: string; type: string; url?: unknown; method?: unknown }) => void): void };
  nodes.eachNode?.((config) => {
    if (config.type !== 'http in' || typeof config.url !== 'string' || (config.method !== 'get' && config.method !== 'post')) return;
    const url = config.url.startsWith('/') ? config.url : `/${config.url}`;
    const running = pathKey(url) === key ? RED.nodes.getNode(config.id) : null;
    if (running) found.push(running);
  });
  return found;
}

function routeFor(RED: NodeAPI, app: ExpressLike, url: string): PathRoute {
  let byPath = routes.get(app);
  if (!byPath) routes.set(app, (byPath = new Map()));
  const key = pathKey(url);
  let route = byPath.get(key);
  if (route) return route;
  const created: PathRoute = { handlers: [], before: new WeakSet(httpInNodes(RED, key)) };
  const dispatch: RouteHandler = (req, res, next) => {
    const handler = created.handlers[0];
    if (handler) handler(req, res);
    else next();
  };
  app.get(url, dispatch);
  app.post(url, dispatch);
  byPath.set(key, (route = created));
  return route;
}

/**
 * Other nodes that serve the same path and methods (an `http in`, another webhook node), before and
 * after this one: the first takes every request.
 */
function sameRoutes(RED: NodeAPI, route: PathRoute, key: string, handler: Handler): { before: number; after: number } {
  const ours = route.handlers.indexOf(handler);
  let before = ours;
  let after = route.handlers.length - 1 - ours;
  for (const httpIn of httpInNodes(RED, key)) {
    if (route.before.has(httpIn)) before += 1;
    else after += 1;
  }
  return { before, after };
}

/** A request refused before its fields were read, with its status and answer. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Set on a request to a webhook path before Express sees it: its body is read here, as bytes. */
const UNREAD = Symbol('vonage-sms webhook body unread');
/** The request's own Content-Type, kept while a stand-in keeps body parsers away (`leaveBodyUnread`). */
const CONTENT_TYPE = Symbol('vonage-sms webhook content type');
/** A content type no body parser takes. */
const UNREAD_TYPE = 'application/x-vonage-sms-webhook-unread';
type ParsedRequest = IncomingMessage & { body?: unknown; _body?: boolean; [UNREAD]?: boolean; [CONTENT_TYPE]?: string };

function readBody(req: ParsedRequest, maxBytes: number, timeoutMs: number): Promise<string | object> {
  const declared = Number(req.headers['content-length']);
  // An httpNodeMiddleware has read and parsed it already.
  if ((req._body === true && !req[UNREAD]) || req.readableEnded) {
    const body = req.body ?? '';
    const size = declared >= 0 ? declared : Buffer.byteLength(typeof body === 'string' ? body : JSON.stringify(body));
    return size > maxBytes ? Promise.reject(new Refusal(413, 'the body is too large')) : Promise.resolve(body as string | object);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => reject(new Refusal(408, 'the body took too long to arrive')), timeoutMs);
    // Past the limit, keep reading but keep nothing, so that the client gets its 413 on an intact connection.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (size > maxBytes) reject(new Refusal(413, 'the body is too large'));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const notText = (name: string) => new Refusal(400, `${name.slice(0, 40)} must be text, not a list or an object`);

/** Name → text, with no prototype, so that any name (even __proto__) stays a field to be checked. */
function fieldsOf(entries: Iterable<[string, unknown]>): WebhookParams {
  const out = Object.create(null) as WebhookParams;
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    if (Object.hasOwn(out, name)) throw new Refusal(400, `${name.slice(0, 40)} is given twice`);
    if (typeof value === 'object') throw notText(name);
    out[name] = String(value);
  }
  return out;
}

/** The body as an object (JSON parsed, or a form's fields), or undefined when empty. */
function parseBody(body: string | object, contentType: string): object | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    if (body.trim() === '') return undefined;
    if (!contentType.includes('application/json')) return fieldsOf(new URLSearchParams(body));
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new Refusal(400, 'the body is neither JSON nor a form');
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Refusal(400, 'the body must be a JSON object or a form');
  return parsed;
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

/** The webhook paths served now, as Express matches them (no case, no trailing slash), with how many nodes serve each. */
const servedPaths = new Map<string, number>();
const pathKey = (path: string) => path.toLowerCase().replace(/\/+$/, '') || '/';
const answering = new WeakSet<object>();

/**
 * Admin API and HTTP nodes on one root: a JSON or form body that the admin API's parser refuses
 * (bad JSON, over its limit) never reaches RED.httpNode, and Express would answer with an HTML
 * stack trace. The admin app the runtime mounts (RED.httpAdmin's parent) gets a last error
 * handler that answers such requests to a webhook path as the webhook would: 400 or 413, plain text.
 */
function answerBodyParserErrors(RED: NodeAPI): void {
  const admin = (RED as unknown as { httpAdmin?: ExpressLike }).httpAdmin;
  const outer = admin?.parent ?? admin;
  if (!outer || answering.has(outer)) return;
  answering.add(outer);
  const settings = RED.settings as unknown as { httpNodeRoot?: string | false };
  const nodeRoot = pathKey(typeof settings.httpNodeRoot === 'string' ? settings.httpNodeRoot : '/');
  outer.use((err, req, res, next) => {
    const type = (err as { type?: unknown })?.type;
    const status = Number((err as { status?: unknown })?.status);
    if (typeof type !== 'string' || !(status >= 400 && status < 500)) return next(err);
    const path = pathKey(new URL(req.originalUrl ?? req.url ?? '/', 'http://webhook').pathname);
    const local = nodeRoot === '/' ? path : path.startsWith(`${nodeRoot}/`) ? path.slice(nodeRoot.length) : undefined;
    if (local === undefined || !servedPaths.has(local)) return next(err);
    if (status === 413 || type === 'parameters.too.many') answer(res, 413, 'the body is too large');
    else answer(res, 400, 'the body is neither JSON nor a form');
  });
}

/** The webhook path a request is for, without Node-RED's httpNodeRoot, if it is one we serve. */
function webhookPathOf(RED: NodeAPI, url: string | undefined): string | undefined {
  const settings = RED.settings as unknown as { httpNodeRoot?: string | false };
  if (settings.httpNodeRoot === false) return undefined;
  const nodeRoot = pathKey(typeof settings.httpNodeRoot === 'string' ? settings.httpNodeRoot : '/');
  let path: string;
  try {
    path = pathKey(decodeURI(new URL(url ?? '/', 'http://webhook').pathname));
  } catch {
    return undefined;
  }
  const local = nodeRoot === '/' ? path : path === nodeRoot ? '/' : path.startsWith(`${nodeRoot}/`) ? path.slice(nodeRoot.length) : undefined;
  return local !== undefined && servedPaths.has(local) ? local : undefined;
}

const leaving = new WeakSet<object>();

/**
 * A listener on Node-RED's HTTP server, ahead of Express's, for requests to a webhook path: the admin
 * API's parser on a shared root leaves the body unread, and uncompressed, for the webhook to read as
 * bytes. Two marks, for both generations of body-parser: `_body` (read already), which body-parser 1
 * (Express 4's) honours, and a stand-in Content-Type that no parser takes, since body-parser 2 (Express
 * 5's) skips only a body read to its end. The webhook puts the request's own Content-Type back first.
 */
function leaveBodyUnread(RED: NodeAPI): void {
  const server = (RED as unknown as { server?: { prependListener(event: 'request', listener: (req: ParsedRequest) => void): void } }).server;
  if (!server || typeof server.prependListener !== 'function' || leaving.has(server)) return;
  leaving.add(server);
  server.prependListener('request', (req) => {
    if (webhookPathOf(RED, req.url) === undefined) return;
    req._body = true;
    req[UNREAD] = true;
    const type = req.headers['content-type'];
    if (type !== undefined) {
      req[CONTENT_TYPE] = type;
      req.headers['content-type'] = UNREAD_TYPE;
    }
  });
}

/** Serves the webhook; returns the function that stops serving it. */
export function serveWebhook(RED: NodeAPI, node: Node, options: WebhookOptions): () => void {
  const app = (RED as unknown as { httpNode?: ExpressLike }).httpNode;
  if (!app) throw new Error(RED._(`${node.type}.errors.no-http`));
  answerBodyParserErrors(RED);
  leaveBodyUnread(RED);
  const bodyTimeoutMs = numberSetting((RED.settings as unknown as { vonageSmsWebhookBodyTimeout?: unknown }).vonageSmsWebhookBodyTimeout, BODY_TIMEOUT_MS, 1);

  const handle = async (req: ParsedRequest, res: ServerResponse) => {
    if (req[CONTENT_TYPE] !== undefined) req.headers['content-type'] = req[CONTENT_TYPE];
    const from = req.socket.remoteAddress ?? 'unknown';
    // Vonage does not compress webhooks: refused before a byte is inflated (4.9 KB of gzip can be 4.9 MB).
    const encoding = String(req.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding !== 'identity' && encoding !== '') throw new Refusal(415, 'the body must not be compressed (Content-Encoding)');
    const body = await readBody(req, options.maxBodyBytes, bodyTimeoutMs);
    const parsed = parseBody(body, String(req.headers['content-type'] ?? ''));
    const signature = options.signedBy?.signature;
    if (options.signedBy !== undefined && !signature) {
      options.rejected('unconfigured', from);
      return answer(res, 503, 'signature checking is not set up: the request was not accepted');
    }
    let params: WebhookParams;
    let messages: MessagesBody | undefined;
    if (options.messages && isMessagesWebhook(parsed)) {
      // The Messages API: a JWT in the Authorization header, over the body's bytes as received (or, should
      // a middleware have parsed the body already, its JSON text, as Vonage's own samples hash it).
      let apiKey: string | undefined;
      if (signature) {
        const verdict = verifyMessagesSignature(req.headers.authorization, typeof body === 'string' ? body : JSON.stringify(body), signature.secret, options.signatureWindowSeconds);
        if (!verdict.ok) {
          answer(res, 401, 'signature required');
          return options.rejected(verdict.reason, from);
        }
        const claimed = verdict.claims.api_key;
        if (typeof claimed === 'string' && /^[0-9A-Za-z]{1,32}$/.test(claimed)) apiKey = claimed;
      }
      const channel = parsed.channel;
      if (typeof channel !== 'string' || !/^[a-z_]{1,20}$/.test(channel)) return answer(res, 400, 'channel must be a channel such as sms');
      if (channel !== 'sms') {
        options.otherChannel?.(channel);
        return answer(res, 200, 'OK');
      }
      const wrong = checkMessagesWebhook(options.messages, parsed);
      if (wrong) return answer(res, 400, wrong);
      messages = parsed;
      params = legacyFieldsOf(options.messages, parsed, apiKey);
    } else {
      const query = fieldsOf(new URL(req.url ?? '/', 'http://webhook').searchParams);
      params = Object.assign(query, parsed ? fieldsOf(Object.entries(parsed)) : {});
      if (signature) {
        const verdict = verifySignature(params, signature.secret, signature.method, options.signatureWindowSeconds);
        if (!verdict.ok) {
          answer(res, 401, 'signature required');
          return options.rejected(verdict.reason, from);
        }
      }
      const wrong = checkWebhookFields(options.schema, params);
      if (wrong) return answer(res, 400, wrong);
    }
    try {
      // A plain object again: the msg's payload is built from it.
      await options.accepted({ ...params }, messages);
    } catch (err) {
      if (err instanceof SharedStateError) return answer(res, 503, 'the shared state is unreachable: try again later');
      node.error(err instanceof Error ? err.message : String(err));
      return answer(res, 500, 'the request could not be handled: try again later');
    }
    answer(res, 200, 'OK');
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      if (err instanceof Refusal) {
        // A client still sending after its time is up, or sending what is not read, gets its answer, then no more of this connection.
        if (err.status === 408 || err.status === 415) res.setHeader('Connection', 'close');
        return answer(res, err.status, err.message);
      }
      if (res.headersSent) return node.error(err);
      answer(res, 400, 'the request could not be read');
    });
  };

  const route = routeFor(RED, app, options.url);
  route.handlers.push(handler);
  const key = pathKey(options.url);
  servedPaths.set(key, (servedPaths.get(key) ?? 0) + 1);

  // Once every node of the flows is in place: does another node serve this path too?
  const events = (RED as unknown as { events?: { on(e: string, f: () => void): void; off?(e: string, f: () => void): void; removeListener?(e: string, f: () => void): void } }).events;
  const checkShared = () => {
    const { before, after } = sameRoutes(RED, route, key, handler);
    if (before + after === 0) return;
    options.shared?.(before > 0 ? 'shadowed' : 'shadowing', before + after);
  };
  events?.on('flows:started', checkShared);

  return () => {
    (events?.off ?? events?.removeListener)?.call(events, 'flows:started', checkShared);
    const count = (servedPaths.get(key) ?? 1) - 1;
    if (count > 0) servedPaths.set(key, count);
    else servedPaths.delete(key);
    // The route stays: with no handler it hands requests on, as if it were gone.
    route.handlers.splice(route.handlers.indexOf(handler), 1);
  };
}
