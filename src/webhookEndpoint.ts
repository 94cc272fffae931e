/**
 * A Vonage webhook on Node-RED's HTTP node server (RED.httpNode, like `http in`), for SMS in and
 * SMS receipt. It takes every form Vonage may use (GET query, POST form, POST JSON; query and
 * body merged), checks the signature when the selected `nexmobasic` has a signature secret, and
 * answers at once, before the flow runs, since Vonage retries anything slow: 401 for an unsigned,
 * altered or stale request, 400 for a missing field, 413 for an oversize body, else 200.
 * The body is read here rather than with body-parser, which this package cannot count on resolving.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode } from './accountNode';
import { verifySignature } from './sms/signature';

export type WebhookParams = Record<string, string>;

export interface WebhookOptions {
  url: string;
  /** Fields a request must carry; without one it gets 400. */
  required: string[];
  /** Checks signatures when this config node has a signature secret. */
  account: NexmoBasicNode | null;
  /** How far a signed request's timestamp may be from now. */
  signatureWindowSeconds: number;
  maxBodyBytes: number;
  /** A request that passed every check, after the 200 went back. */
  accepted(params: WebhookParams): void;
  /** A request refused for its signature: counted and warned about by the node. */
  rejected(reason: 'unsigned' | 'stale' | 'mismatch', from: string): void;
}

type ExpressLike = {
  get(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  post(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  _router?: { stack: Array<{ route?: { path: string; stack: Array<{ handle: unknown }> } }> };
};

class TooLarge extends Error {}

function readBody(req: IncomingMessage & { body?: unknown }, maxBytes: number): Promise<string | object> {
  // Another middleware (httpNodeMiddleware) may have parsed it already.
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object' && Object.keys(req.body).length) return Promise.resolve(req.body as object);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit, keep reading but keep nothing, so that the client gets its 413 on an intact connection.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => (size > maxBytes ? reject(new TooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function asStrings(source: object): WebhookParams {
  const out: WebhookParams = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

function parseBody(body: string | object, contentType: string): WebhookParams {
  if (typeof body === 'object') return asStrings(body);
  if (body.trim() === '') return {};
  if (contentType.includes('application/json')) {
    const parsed = JSON.parse(body);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return asStrings(parsed);
  }
  return Object.fromEntries(new URLSearchParams(body));
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

/** Serves the webhook; returns the function that stops serving it. */
export function serveWebhook(RED: NodeAPI, node: Node, options: WebhookOptions): () => void {
  const app = (RED as unknown as { httpNode?: ExpressLike }).httpNode;
  if (!app) throw new Error(RED._('vonage-sms-in.errors.no-http'));

  const handler = (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
    const from = req.socket.remoteAddress ?? 'unknown';
    readBody(req, options.maxBodyBytes)
      .then((body) => {
        let params: WebhookParams;
        try {
          const query = Object.fromEntries(new URL(req.url ?? '/', 'http://webhook').searchParams);
          params = { ...query, ...parseBody(body, String(req.headers['content-type'] ?? '')) };
        } catch {
          return answer(res, 400, 'the body is neither JSON nor a form');
        }
        const signature = options.account?.signature();
        if (signature) {
          const verdict = verifySignature(params, signature.secret, signature.method, options.signatureWindowSeconds);
          if (!verdict.ok) {
            answer(res, 401, 'signature required');
            options.rejected(verdict.reason, from);
            return;
          }
        }
        const missing = options.required.filter((field) => !params[field]);
        if (missing.length) return answer(res, 400, `missing ${missing.join(', ')}`);
        answer(res, 200, 'OK');
        try {
          options.accepted(params);
        } catch (err) {
          node.error(err);
        }
      })
      .catch((err) => {
        if (res.headersSent) return;
        if (err instanceof TooLarge) answer(res, 413, 'the body is too large');
        else answer(res, 400, 'the request could not be read');
      });
  };

  app.get(options.url, handler);
  app.post(options.url, handler);

  return () => {
    const stack = app._router?.stack ?? [];
    for (let i = stack.length - 1; i >= 0; i -= 1) {
      // Only our own routes: an `http in` on the same path stays.
      const route = stack[i].route;
      if (route && route.path === options.url && route.stack.some((layer) => layer.handle === handler)) stack.splice(i, 1);
    }
  };
}
