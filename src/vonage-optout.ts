/**
 * Opt-out list (`vonage-optout`): manages the opt-out list of the selected `nexmobasic` from a flow,
 * by `msg.topic`: `add` and `remove` (one number, a list, or text with one number a line, for
 * importing an existing list), `check` (one number) and `list`. The answer replaces `msg.payload`.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { NexmoBasicNode } from './account/accountNode';
import { normaliseNumber } from './sms/phoneNumber';
import { MAX_OPT_OUTS } from './sms/optOut';
import type { OptOutList } from './state/accountState';

interface OptOutListDef extends NodeDef {
  creds?: string;
}

const ACTIONS = ['add', 'remove', 'check', 'list'] as const;
type Action = (typeof ACTIONS)[number];

/** Numbers changed at once: a large import costs one file write (or one Redis round trip) a batch. */
const BATCH = 1000;
/** Invalid entries named in the answer at most. */
const MAX_INVALID_SHOWN = 100;

/** An entry of a msg.payload, and where it was: its line in a text (from 1), or its index in an array. */
interface Input {
  value: unknown;
  line?: number;
  index?: number;
}

/**
 * The numbers a msg.payload gives: one, an array, or text with one a line (commas and semicolons too; a
 * byte order mark, Windows line ends, blank lines and `#` comments are no entries).
 */
function inputsOf(payload: unknown): Input[] {
  if (Array.isArray(payload)) return payload.map((value, index) => ({ value, index }));
  if (typeof payload === 'string') {
    return payload
      .replace(/^\uFEFF/, '')
      .split(/\r?\n|\r/)
      .flatMap((text, i) => (text.trim().startsWith('#') ? [] : text.split(/[,;]/).map((value) => ({ value, line: i + 1 }))))
      .filter((input) => (input.value as string).trim() !== '');
  }
  return [{ value: payload }];
}

function textOf(input: unknown): string | undefined {
  if (typeof input === 'string') return input;
  if (typeof input === 'number' && Number.isSafeInteger(input) && input > 0) return String(input);
  if (input && typeof input === 'object' && 'number' in input) return textOf((input as { number: unknown }).number);
  return undefined;
}

export = function (RED: NodeAPI) {
  function OptOutListNode(this: Node, config: OptOutListDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const account = config.creds ? (RED.nodes.getNode(config.creds) as NexmoBasicNode | null) : null;

    const numbers = (inputs: Input[]) => {
      const valid: string[] = [];
      const invalid: Array<{ input: string; error: string; line?: number; index?: number }> = [];
      for (const { value, line, index } of inputs) {
        const text = textOf(value);
        try {
          if (text === undefined) throw new Error(RED._('vonage-optout.errors.not-a-number'));
          valid.push(normaliseNumber(text, 'Number', account?.country));
        } catch (err) {
          const message = (err as Error).message;
          // Which line of an imported list, or which item of an array: said in the error, and as a field.
          const where = line !== undefined ? RED._('vonage-optout.errors.at-line', { line }) : index !== undefined ? RED._('vonage-optout.errors.at-index', { index }) : '';
          invalid.push({ input: String(text ?? typeof value).slice(0, 64), error: where ? `${where}: ${message}` : message, ...(line !== undefined ? { line } : {}), ...(index !== undefined ? { index } : {}) });
        }
      }
      return { valid, invalid };
    };

    async function change(list: OptOutList, action: 'add' | 'remove', inputs: Input[]) {
      if (inputs.length > MAX_OPT_OUTS) throw new Error(RED._('vonage-optout.errors.too-many', { max: MAX_OPT_OUTS }));
      const { valid, invalid } = numbers(inputs);
      let changed = 0;
      for (let i = 0; i < valid.length; i += BATCH) {
        const batch = valid.slice(i, i + BATCH);
        const results = await Promise.all(batch.map((number) => (action === 'add' ? list.add(number, 'list') : list.remove(number))));
        changed += results.filter(Boolean).length;
      }
      const [done, unchanged] = action === 'add' ? ['added', 'already'] : ['removed', 'absent'];
      return {
        [done]: changed,
        [unchanged]: valid.length - changed,
        invalid: invalid.slice(0, MAX_INVALID_SHOWN),
        invalidCount: invalid.length,
        size: await list.size(),
      };
    }

    const onInput = async (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const fail = (message: string) => {
        node.status({ fill: 'red', shape: 'ring', text: RED._('vonage-optout.status.failed') });
        done(message as unknown as Error);
      };
      if (!account) return fail(RED._('vonage-optout.errors.no-creds'));
      const policy = account.optOuts;
      if (policy instanceof Error) return fail(policy.message);
      const action = String(msg.topic ?? '')
        .trim()
        .toLowerCase() as Action;
      if (!ACTIONS.includes(action)) return fail(RED._('vonage-optout.errors.bad-topic', { topic: String(msg.topic ?? '').slice(0, 40) }));
      try {
        if (action === 'list') msg.payload = await policy.list.list();
        else if (action === 'check') {
          const { valid, invalid } = numbers([{ value: msg.payload }]);
          if (!valid.length) return fail(invalid[0]?.error ?? RED._('vonage-optout.errors.not-a-number'));
          const entry = await policy.list.check(valid[0]);
          msg.payload = entry ? { ...entry, optedOut: true } : { number: valid[0], optedOut: false };
        } else msg.payload = await change(policy.list, action, inputsOf(msg.payload));
        const size = await policy.list.size();
        node.status({ fill: policy.honoured ? 'green' : 'grey', shape: 'dot', text: RED._(policy.honoured ? 'vonage-optout.status.size' : 'vonage-optout.status.size-off', { count: size }) });
        send(msg);
        done();
      } catch (err) {
        fail((err as Error).message);
      }
    };
    // A rejection would go unhandled: Node-RED ignores what an input listener returns.
    node.on('input', (msg, send, done) => void onInput(msg, send, done).catch((err: Error) => done(err)));
  }

  RED.nodes.registerType('vonage-optout', OptOutListNode);
};
