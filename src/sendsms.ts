/**
 * Send SMS (`sendsms`): renders To, From and Text from the msg and sends one SMS a recipient
 * through the send queue of the selected `nexmobasic`, passing each msg on with `msg.payload` =
 * the SMS API response. Failures go to `done(err)` (one recipient) or to a Catch node with that
 * recipient's msg (several), and nothing is sent on bad input or in a dry run.
 */
import { SharedStateError } from './state/accountState';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { AccountError, type NexmoBasicNode } from './account/accountNode';
import { composeSms, parseSmsTemplates, type ComposedSms, type SmsTemplates } from './sms/composeSms';
import { InvalidNumberError } from './sms/phoneNumber';
import { OptedOutError, type OptOutEntry } from './sms/optOut';
import { TooManyRecipientsError } from './sms/recipients';
import { QueueError, type SendReceiver, type SendResult, type SmsAbout } from './sending/sendQueue';
import { maybeSent, SmsSendError } from './vonage/client';
import { dryRunPrices } from './vonage/pricing';
import type { SmsRequest } from './sms/smsRequest';
import type { ContextScope, TemplateSources } from './sms/template';
import { Slices } from './node-red/slices';
import { SpendError } from './sending/spendGuard';

interface SendSmsDef extends NodeDef {
  creds?: string;
  to?: string;
  fr?: string;
  text?: string;
  unicode?: boolean;
  /** Render, normalise and count, but never call Vonage. */
  dryrun?: boolean;
  /** Receipt URL: Vonage's `callback`. */
  callback?: string;
  /** Client ref template: Vonage's `client-ref`; empty means the msg's _msgid. */
  clientref?: string;
}

type SmsMessage = NodeMessageInFlow & { sms?: unknown; to?: unknown; dryRun?: unknown; recovered?: boolean };

/**
 * Composing takes about a tenth of a millisecond an SMS: a burst of msgs (a function node's loop) is
 * composed at most this long at a time, shared by every Send SMS node, so that the event loop never waits long.
 */
const COMPOSE_SLICE_MS = 8;
const composing = new Slices(COMPOSE_SLICE_MS);

export = function (RED: NodeAPI) {
  function SendSms(this: Node, config: SendSmsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const account = config.creds ? (RED.nodes.getNode(config.creds) as NexmoBasicNode | null) : null;
    /** SMS of this node in the queue; on close, done() waits for those being sent to finish. */
    let outstanding = 0;
    let settled: (() => void) | undefined;
    let lastStatus: { fill: 'red' | 'green' | 'blue' | 'grey'; shape: 'dot' | 'ring'; text: string } | undefined;

    let templates: SmsTemplates | Error;
    try {
      templates = parseSmsTemplates(config);
    } catch (err) {
      templates = err as Error;
      node.error(templates.message);
      node.status({ fill: 'red', shape: 'ring', text: RED._('sendsms.status.bad-template') });
    }

    // Every status goes to the editor: at a few hundred SMS a second, the first one is shown at once and
    // then only the latest, at most every 100 ms.
    let statusTimer: NodeJS.Timeout | undefined;
    type Status = { fill?: 'red' | 'green' | 'blue' | 'grey' | 'yellow'; shape?: 'dot' | 'ring'; text?: string };
    let pendingStatus: Status | undefined;
    function showStatus(status: Status): void {
      if (statusTimer) {
        pendingStatus = status;
        return;
      }
      node.status(status);
      statusTimer = setTimeout(function flush() {
        statusTimer = undefined;
        if (pendingStatus) {
          const next = pendingStatus;
          pendingStatus = undefined;
          showStatus(next);
        }
      }, 100);
    }

    function show(fill: 'red' | 'green' | 'blue' | 'grey', shape: 'dot' | 'ring', text: string): void {
      lastStatus = { fill, shape, text };
      showStatus(lastStatus);
    }

    // While SMS wait in the account's shared queue, every Send SMS node using it shows how many.
    // The account as its config node resolved it when the flows started: its queue, or why it has none.
    const queue = account && !(account.sendQueue instanceof Error) ? account.sendQueue : undefined;
    const noQueue = account?.sendQueue instanceof Error ? account.sendQueue : undefined;
    // An account that cannot send says so in a few words, from the start: the error names the setting.
    const accountStatus = noQueue instanceof AccountError ? noQueue.status : 'bad-account';
    const noQueueWords = noQueue && RED._(`sendsms.status.${accountStatus}`);
    if (noQueueWords) show('red', 'ring', noQueueWords);
    const onDepth = (depth: number) => {
      // While the shared state (Redis) is unreachable, SMS wait for it: the status says why.
      if (depth > 0 && queue && !queue.stateAvailable) {
        showStatus({ fill: 'yellow', shape: 'ring', text: RED._('sendsms.status.state-down', { count: depth }) });
      } else if (depth > 0) showStatus({ fill: 'blue', shape: 'ring', text: RED._('sendsms.status.queued', { count: depth }) });
      // Back to this node's own last status; a node that has sent nothing yet shows none.
      else showStatus(lastStatus ?? {});
    };
    const onState = () => onDepth(queue ? queue.depth : 0);
    // A daily budget used up shows on every Send SMS node of the account, not only the one whose SMS was refused.
    const onRefused = (err: SpendError) => {
      if (err.limit === 'parts' || err.limit === 'money') show('red', 'ring', RED._('sendsms.status.failed', { reason: reason(err) }));
    };
    // With a shared state, the SMS of this node that a dead Node-RED instance left are sent by this one:
    // each comes out as a new msg with the original's _msgid and topic, and msg.recovered = true.
    const journalled = account !== null && !(account.state instanceof Error) && account.state.shared;
    const stopAdopting = queue?.adopt(node.id, (request, about) => {
      const msg: SmsMessage = { _msgid: about.msgid ?? RED.util.generateId(), recovered: true };
      if (about.topic !== undefined) (msg as { topic?: unknown }).topic = about.topic;
      outstanding += 1;
      return new Delivery(
        msg,
        (out) => node.send(out),
        (err) => err && node.error(err, msg),
        1,
      );
    });
    if (queue) {
      queue.on('depth', onDepth);
      queue.on('state', onState);
      queue.on('refused', onRefused);
    }

    function copyFor(msg: SmsMessage, recipient: string): SmsMessage {
      const { to, ...rest } = msg;
      const copy = RED.util.cloneMessage(rest) as SmsMessage;
      if (to !== undefined) copy.to = recipient;
      return copy;
    }

    function sourcesFor(msg: NodeMessageInFlow): TemplateSources {
      return {
        msg,
        env: (name) => RED.util.evaluateNodeProperty(name, 'env', node, msg),
        context: (scope: ContextScope, key: string, store: string | undefined) =>
          new Promise((resolve, reject) => {
            node.context()[scope].get(key, store as string, (err: Error | undefined, value: unknown) => (err ? reject(err) : resolve(value)));
          }),
      };
    }

    function describe(sms: ComposedSms) {
      return {
        to: sms.to,
        from: sms.from,
        text: sms.text,
        type: sms.type,
        encoding: sms.encoding,
        parts: sms.parts,
        characters: sms.characters,
        ...(sms.clientRef ? { clientRef: sms.clientRef } : {}),
      };
    }

    /** A few words for the status: "wrong API key or secret", "invalid To or From"… */
    function reason(err: Error): string {
      if (err instanceof SmsSendError) return err.shortReason;
      if (err instanceof QueueError) return RED._(err.reason === 'full' ? 'sendsms.status.queue-full' : 'sendsms.status.stopped');
      if (err instanceof InvalidNumberError) return RED._('sendsms.status.bad-number');
      if (err instanceof TooManyRecipientsError) return RED._('sendsms.status.too-many');
      if (err instanceof SharedStateError) return RED._('sendsms.status.state-failed');
      if (err instanceof OptedOutError) return RED._('sendsms.status.opted-out');
      if (err instanceof SpendError) return RED._(`sendsms.status.spend-${err.limit}`);
      // Which input: the error's first words ("Text is empty", "From \"…\" is not…"), as much as a status holds.
      const what = err.message.split(/[:;]/)[0].trim();
      return RED._('sendsms.status.bad-input', { what: what.length > 48 ? `${what.slice(0, 47)}…` : what });
    }

    /**
     * What the debug sidebar and a Catch node get: the error's own words, as text. Node-RED shows a
     * string in full, where an Error object is a collapsed {name, message, stack} with the advice cut off.
     */
    const told = (err: Error) => err.message as unknown as Error;

    const onInput = async (msg: SmsMessage, send: (msg: SmsMessage) => void, done: (err?: Error) => void) => {
      const fail = (err: Error, why: string) => {
        show('red', 'ring', RED._('sendsms.status.failed', { reason: why }));
        done(told(err));
      };
      if (templates instanceof Error) return fail(templates, RED._('sendsms.status.bad-template'));
      if (!account) return fail(new Error(RED._('sendsms.errors.no-creds')), RED._('sendsms.status.no-creds'));
      const dryRun = config.dryrun === true || msg.dryRun === true;
      if (noQueue && !dryRun) return fail(noQueue, noQueueWords!);

      let batch;
      try {
        const turn = composing.turn();
        if (turn) await turn;
        batch = await composeSms(templates, sourcesFor(msg), account.country, msg.to);
      } catch (err) {
        return fail(err as Error, reason(err as Error));
      }

      // A dry run says which recipients opted out, as the send queue would when their turn came.
      let optedOut: Map<string, OptOutEntry> | undefined;
      // And what each SMS would cost, when the Pricing API says (else nothing is said of it).
      let prices: Map<ComposedSms, { price: number; currency: string }> | undefined;
      if (dryRun) {
        try {
          optedOut = await optOutsOf(batch.messages);
        } catch (err) {
          return fail(err as Error, reason(err as Error));
        }
        prices = await dryRunPrices(
          account.pricing,
          batch.messages.map((m) => m.sms),
        );
      }

      // No await from here on: a waiting SMS holds its msg, its request and a Delivery, not this
      // handler's frame or closures (memory per waiting SMS, BENCHMARKS.md).
      const delivery = new Delivery(msg, send, done, batch.messages.length);
      for (const { recipient, sms, error } of batch.messages) {
        // One msg for each recipient, whose msg.to (if it had one) names just that recipient: a copy of
        // the whole list in each would cost N² for N recipients. The incoming msg itself when there is one.
        const out: SmsMessage = delivery.several ? copyFor(msg, recipient) : msg;
        if (!sms) {
          delivery.failed(error!, recipient, out);
          continue;
        }
        if (dryRun) {
          out.sms = describe(sms);
          const entry = optedOut?.get(sms.to);
          if (entry) {
            out.sms = { ...describe(sms), maybeSent: false };
            delivery.failed(new OptedOutError(entry), recipient, out);
            continue;
          }
          out.payload = { ...describe(sms), ...prices?.get(sms), dryRun: true };
          show('grey', 'dot', RED._('sendsms.status.dry-run', { count: sms.parts }));
          send(out);
          delivery.finished();
          continue;
        }
        if (!lastStatus || lastStatus.fill !== 'blue') show('blue', 'dot', RED._('sendsms.status.sending'));
        outstanding += 1;
        queue!.enqueue(sms, node.id, delivery.several ? new Recipient(delivery, out) : delivery, aboutOf(msg));
      }
    };
    /** What a Node-RED that takes this SMS over (this one dying) needs to send its msg on: the msg's id and topic. */
    function aboutOf(msg: SmsMessage): SmsAbout | undefined {
      if (!journalled) return undefined;
      const topic = typeof msg.topic === 'string' || typeof msg.topic === 'number' ? msg.topic : undefined;
      return { msgid: msg._msgid, topic };
    }

    // A rejection would go unhandled: Node-RED ignores what an input listener returns.
    node.on('input', (msg, send, done) => void onInput(msg as SmsMessage, send, done).catch((err: Error) => done(err)));

    /** The recipients on the account's opt-out list, when it is honoured. */
    async function optOutsOf(messages: Array<{ sms?: ComposedSms }>): Promise<Map<string, OptOutEntry>> {
      const found = new Map<string, OptOutEntry>();
      const policy = account!.optOuts;
      if (policy instanceof Error || !policy.honoured) return found;
      for (const { sms } of messages) {
        const entry = sms && (await policy.list.check(sms.to));
        if (entry) found.set(entry.number, entry);
      }
      return found;
    }

    /**
     * One msg's SMS, one a recipient, as the queue holds them: done() once each has an outcome, with
     * the error when the msg had one recipient (several: each failure is its own node.error).
     */
    class Delivery implements SendReceiver {
      private remaining: number;
      private failure: Error | undefined;
      readonly several: boolean;

      constructor(
        private readonly msg: SmsMessage,
        private readonly send: (msg: SmsMessage) => void,
        private readonly done: (err?: Error) => void,
        count: number,
      ) {
        this.remaining = count;
        this.several = count > 1;
      }

      /** The outcome of the msg's one SMS. */
      outcome(err: Error | undefined, result: SendResult | undefined, request: SmsRequest): void {
        this.settle(this.msg, err, result, request as ComposedSms);
      }

      /**
       * An SMS's outcome; msg.sms is written now: until then the queue's request is all it takes. A failure
       * adds `msg.sms.maybeSent`, for a flow to test at its Catch node: true when the SMS may have reached
       * Vonage (never retried: check before sending it again), false when it certainly was not sent.
       */
      settle(out: SmsMessage, err: Error | undefined, result: SendResult | undefined, sms: ComposedSms): void {
        out.sms = err ? { ...describe(sms), maybeSent: maybeSent(err) } : { ...describe(sms), ...result?.spend };
        if (err instanceof QueueError && err.reason === 'handed-over') {
          // Another Node-RED sends it (this one was cut off from Redis for longer than its lease): not a failure here.
          node.warn(RED._('sendsms.warn.handed-over', { to: sms.to }));
          this.finished();
        } else if (err) this.failed(err, sms.to, out);
        else {
          const response = result!.response;
          out.payload = response;
          show('green', 'dot', sms.parts === 1 ? RED._('sendsms.status.sent-one') : RED._('sendsms.status.sent-many', { count: sms.parts }));
          if (closing) node.log(RED._('sendsms.warn.outcome-sent', { to: sms.to, ids: result!.ids.join(', ') }));
          this.send(out);
          this.finished();
        }
        outstanding -= 1;
        if (outstanding === 0) settled?.();
      }

      failed(err: Error, to: string, out: SmsMessage): void {
        this.failure ??= err;
        show('red', 'ring', RED._('sendsms.status.failed', { reason: reason(err) }));
        // The flow is stopping: its Catch nodes may be gone, so the log says what became of this SMS.
        if (closing) node.warn(RED._('sendsms.warn.outcome-failed', { to, error: err.message }));
        if (this.several) node.error(told(err), out);
        this.finished();
      }

      finished(): void {
        this.remaining -= 1;
        if (this.remaining > 0) return;
        if (!this.several && this.failure) this.done(told(this.failure));
        else this.done();
      }
    }

    /** One recipient's copy of a msg with several. */
    class Recipient implements SendReceiver {
      constructor(
        private readonly delivery: Delivery,
        private readonly out: SmsMessage,
      ) {}

      outcome(err: Error | undefined, result: SendResult | undefined, request: SmsRequest): void {
        this.delivery.settle(this.out, err, result, request as ComposedSms);
      }
    }

    // SMS of this node still waiting fail now, counted in one warning; those being sent finish. Each
    // outcome while closing is also logged, one line an SMS: the flow's Catch and debug nodes stop too.
    let closing = false;
    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      clearTimeout(statusTimer);
      if (!queue) return done();
      queue.off('depth', onDepth);
      queue.off('state', onState);
      queue.off('refused', onRefused);
      stopAdopting?.();
      const count = queue.cancel(node.id, RED._('sendsms.errors.stopped'));
      if (count > 0) node.warn(RED._('sendsms.warn.queued-failed', { count }));
      if (outstanding === 0) return done();
      settled = done;
    });
  }

  RED.nodes.registerType('sendsms', SendSms);
};
