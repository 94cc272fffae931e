/**
 * Send SMS (`sendsms`): renders To, From and Text from the msg, sends one SMS through the
 * selected `nexmobasic`, and passes the msg on with `msg.payload` = the SMS API response.
 * Failures go to `done(err)`, so a Catch node receives them, and nothing is sent on bad input.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { composeSms, parseSmsTemplates, type SmsTemplates } from './sms/composeSms';
import { SmsSendError } from './sms/smsClient';
import type { ContextScope, TemplateSources } from './sms/template';
import type { NexmoBasicNode } from './accountNode';

interface SendSmsDef extends NodeDef {
  creds?: string;
  to?: string;
  fr?: string;
  text?: string;
  unicode?: boolean;
}

export = function (RED: NodeAPI) {
  function SendSms(this: Node, config: SendSmsDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const account = config.creds ? (RED.nodes.getNode(config.creds) as NexmoBasicNode | null) : null;

    let templates: SmsTemplates | Error;
    try {
      templates = parseSmsTemplates(config);
    } catch (err) {
      templates = err as Error;
      node.error(templates.message);
      node.status({ fill: 'red', shape: 'ring', text: RED._('sendsms.status.bad-template') });
    }

    function sourcesFor(msg: NodeMessageInFlow): TemplateSources {
      return {
        msg,
        env: (name) => RED.util.evaluateNodeProperty(name, 'env', node, msg),
        context: (scope: ContextScope, key: string, store: string | undefined) =>
          new Promise((resolve, reject) => {
            node.context()[scope].get(key, store as string, (err: Error | undefined, value: unknown) =>
              err ? reject(err) : resolve(value),
            );
          }),
      };
    }

    node.on('input', async (msg, send, done) => {
      const fail = (err: Error, reason: string) => {
        node.status({ fill: 'red', shape: 'ring', text: RED._('sendsms.status.failed', { reason }) });
        done(err);
      };
      if (templates instanceof Error) return fail(templates, RED._('sendsms.status.bad-template'));
      if (!account) return fail(new Error(RED._('sendsms.errors.no-creds')), RED._('sendsms.status.no-creds'));
      const client = account.smsClient();
      if (client instanceof Error) return fail(client, RED._('sendsms.status.no-creds'));

      node.status({ fill: 'blue', shape: 'dot', text: RED._('sendsms.status.sending') });
      let sms;
      try {
        sms = await composeSms(templates, sourcesFor(msg), account.country);
      } catch (err) {
        return fail(err as Error, RED._('sendsms.status.bad-input'));
      }
      try {
        msg.payload = await client.send(sms);
      } catch (err) {
        return fail(err as Error, err instanceof SmsSendError ? err.shortReason : String(err));
      }
      (msg as NodeMessageInFlow & { sms: unknown }).sms = {
        to: sms.to,
        from: sms.from,
        text: sms.text,
        type: sms.type,
        encoding: sms.encoding,
        parts: sms.parts,
        characters: sms.characters,
      };
      node.status({ fill: 'green', shape: 'dot', text: sms.parts === 1 ? RED._('sendsms.status.sent-one') : RED._('sendsms.status.sent-many', { count: sms.parts }) });
      send(msg);
      done();
    });
  }

  RED.nodes.registerType('sendsms', SendSms);
};
