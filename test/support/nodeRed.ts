/**
 * The Node-RED runtime under test: `node-red` (4.1) by default, or NODE_RED_PACKAGE, the folder of
 * another (npm test sets it to dev/node-red-5/node_modules/node-red for Node-RED 5).
 * Loads the real core nodes of that same runtime, and serves its `RED.httpNode` app over real
 * HTTP on 127.0.0.1, so that the tutorial's http in / http response flows are exercised as in production.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { startRedis, type RunningRedis } from '../../dev/redisServer';
import { DEADLINE_MS } from './waitFor';

export const NODE_RED_PACKAGE = process.env.NODE_RED_PACKAGE || 'node-red';
helper.init(require.resolve(NODE_RED_PACKAGE));
export { helper };

/**
 * Node-RED's user directory, as a real Node-RED has one: the opt-out lists of accounts without a
 * Shared state are kept there. Emptied after each test, so that no test sees another's opt-outs.
 */
export const USER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-helper-'));
helper.settings({ userDir: USER_DIR });
afterEach(() => fs.rmSync(path.join(USER_DIR, 'vonage-sms'), { recursive: true, force: true }));
after(() => fs.rmSync(USER_DIR, { recursive: true, force: true }));

/**
 * TEST_SHARED_STATE=redis runs the runtime suite with every nexmobasic given a Shared state in a
 * redis-server started for the run (npm test does, in a third pass): both modes stay covered.
 */
export const SHARED_STATE = process.env.TEST_SHARED_STATE === 'redis';
if (SHARED_STATE) {
  let redis: RunningRedis | undefined;
  before(async () => {
    redis = await startRedis();
  });
  // Each test deploys afresh, as the memory state starts empty: nothing one test sent or received
  // (a messageId, a send slot) is in the way of the next.
  afterEach(async () => {
    const { default: Redis } = require('ioredis') as typeof import('ioredis');
    const client = new Redis(redis!.url);
    await client.flushdb();
    client.disconnect();
  });
  after(() => redis?.stop());
  const load = helper.load.bind(helper);
  (helper as { load: unknown }).load = (nodes: unknown, flow: Array<{ id: string; type: string }>, credentials?: Record<string, Record<string, string>>, cb?: unknown) => {
    const shared: Record<string, Record<string, string>> = { ...(credentials ?? {}) };
    for (const node of flow) if (node.type === 'nexmobasic' && shared[node.id]?.apikey && !('redisurl' in shared[node.id])) shared[node.id] = { ...shared[node.id], redisurl: redis!.url };
    return (load as (...args: unknown[]) => unknown)(nodes, flow, shared, cb);
  };
}

export const nodeRedVersion: string = require(`${NODE_RED_PACKAGE}/package.json`).version + (SHARED_STATE ? ', state in Redis' : '');

const nodeRedDir = path.dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`));
const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [nodeRedDir] })), 'core');
const core = (file: string) => require(path.join(coreDir, file));

export type NodeModule = (RED: unknown) => void;

export const coreNodes: Record<string, NodeModule> = {
  inject: core('common/20-inject.js'),
  debug: core('common/21-debug.js'),
  comment: core('common/90-comment.js'),
  catch: core('common/25-catch.js'),
  http: core('network/21-httpin.js'),
  switch: core('function/10-switch.js'),
};

export const packageNodes: NodeModule[] = [
  require('../../nodes/nexmobasic.js'),
  require('../../nodes/sendsms.js'),
  require('../../nodes/vonage-sms-in.js'),
  require('../../nodes/vonage-sms-receipt.js'),
  require('../../nodes/vonage-optout.js'),
  require('../../nodes/vonage-sms-usage.js'),
];

/** A node module that only captures RED.httpNode, the express app `http in` nodes register on. */
export function httpNodeServer() {
  let app: http.RequestListener | undefined;
  let server: http.Server | undefined;
  return {
    capture: ((RED: { httpNode: http.RequestListener }) => {
      app = RED.httpNode;
    }) as NodeModule,
    /** @param port a port chosen beforehand (freePort()), when a flow must name its own address. */
    async listen(port = 0): Promise<string> {
      server = http.createServer((req, res) => app!(req, res));
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close(): Promise<void> {
      if (!server) return;
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
    },
  };
}

export type FlowNode = { id: string; type: string; [key: string]: unknown };

/**
 * An example flow from examples/, as the Import menu gives it, made runnable here: its
 * nexmobasic points at the loopback API, and each debug node becomes a helper node the
 * test listens on (same id, same wiring).
 */
export function exampleFlow(name: string, restHost: string): FlowNode[] {
  const file = path.join(__dirname, '..', '..', 'examples', `${name}.json`);
  const flow = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
  const tab = { id: 'example-tab', type: 'tab', label: name };
  return [
    tab,
    ...flow.map((node) => {
      if (node.type === 'nexmobasic') return { ...node, resthost: restHost };
      if (node.type === 'debug') return { id: node.id, z: tab.id, type: 'helper', name: node.name, wires: [] };
      return { ...node, z: tab.id };
    }),
  ];
}

/** Resolves with the next msg a helper node receives. */
export function nextMessage<T = Record<string, any>>(id: string, timeoutMs = DEADLINE_MS): Promise<T> {
  const node = helper.getNode(id);
  if (!node) throw new Error(`no node ${id}`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${id} received nothing in ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: T) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Every status a node shows from now on, in order. */
export function recordStatuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  helper.getNode(id).on('call:status', (call: { args: [{ fill?: string; shape?: string; text?: string }] }) => seen.push(call.args[0]));
  return seen;
}

/** The property that marks drained()'s msg: a test's own collection of msgs leaves it out (isMarker). */
const MARKER = '_drainedMarker';

/** Whether a msg is drained()'s marker rather than one the flow sent. */
export function isMarker(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && MARKER in msg;
}

/**
 * Resolves once every msg node `from` has sent so far has reached helper node `to`: a marker msg goes
 * out of `from` after them and is awaited at `to`, since Node-RED hands a node's msgs on in the order
 * it sent them. The positive way to say "and nothing more came": count what came before the marker.
 * Only for a `from` whose outputs lead to helper nodes alone (the marker goes down each of its wires).
 */
export async function drained(from: string, to: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const marker = `${from} → ${to} ${Math.random()}`;
  const target = helper.getNode(to);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (target.off('input', seen), reject(new Error(`the marker sent from ${from} never reached ${to}`))), timeoutMs);
    const seen = (msg: Record<string, unknown>) => {
      if (msg[MARKER] !== marker) return;
      clearTimeout(timer);
      target.off('input', seen);
      resolve();
    };
    target.on('input', seen);
    helper.getNode(from).send({ [MARKER]: marker });
  });
}
