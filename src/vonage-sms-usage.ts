/**
 * SMS usage (`vonage-sms-usage`): on any msg, what the selected `nexmobasic` account has used today of its
 * spend limits, in `msg.payload`, for a dashboard or a flow that warns before the budget runs out: the
 * day's parts and money, what is left of each budget, and the limits themselves. With a Shared state, the
 * figures are those of every instance together.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { NexmoBasicNode } from './account/accountNode';

interface UsageDef extends NodeDef {
  creds?: string;
}

export = function (RED: NodeAPI) {
  function SmsUsage(this: Node, config: UsageDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const account = config.creds ? (RED.nodes.getNode(config.creds) as NexmoBasicNode | null) : null;

    const onInput = async (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const fail = (message: string) => {
        node.status({ fill: 'red', shape: 'ring', text: RED._('vonage-sms-usage.status.failed') });
        done(message as unknown as Error);
      };
      if (!account) return fail(RED._('vonage-sms-usage.errors.no-creds'));
      const guard = account.spend;
      if (!guard || guard instanceof Error) return fail(guard?.message ?? RED._('vonage-sms-usage.errors.no-creds'));
      try {
        const today = await guard.today();
        const l = guard.limits;
        msg.payload = {
          ...today,
          limits: { countries: l.countries ? [...l.countries] : null, dailyParts: l.dailyParts ?? null, dailySpend: l.dailySpend ?? null, perRecipient: l.perRecipient, timeZone: l.timeZone },
        };
        const text = l.dailyParts !== undefined ? RED._('vonage-sms-usage.status.parts-of', { parts: today.parts, max: l.dailyParts }) : RED._('vonage-sms-usage.status.parts', { parts: today.parts });
        const spent = (l.dailyParts !== undefined && today.left.parts === 0) || (l.dailySpend !== undefined && today.left.money === 0);
        node.status({ fill: spent ? 'red' : 'green', shape: 'dot', text });
        send(msg);
        done();
      } catch (err) {
        fail((err as Error).message);
      }
    };
    // A rejection would go unhandled: Node-RED ignores what an input listener returns.
    node.on('input', (msg, send, done) => void onInput(msg, send, done).catch((err: Error) => done(err)));
  }

  RED.nodes.registerType('vonage-sms-usage', SmsUsage);
};
