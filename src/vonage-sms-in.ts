/**
 * SMS in (`vonage-sms-in`): serves Vonage's inbound-SMS webhook, answers 200 at once, and passes
 * each SMS on once: long SMS joined from their parts, Vonage's retries dropped, forged requests
 * refused when the selected `nexmobasic` has a signature secret. `msg.payload` keeps Vonage's
 * field names (msisdn, to, text, messageId, …), so reply templates work as with `http in`.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { LongSmsAssembler, isPartOfLongSms, partRanges, type AssembledSms } from './sms/longSms';
import { webhookDedup } from './webhookState';
import { receivedAt } from './sms/webhookTime';
import { INBOUND_SMS } from './sms/webhookFields';
import { serveWebhook } from './webhookEndpoint';
import { webhookSigning } from './webhookSigning';
import { numberSetting as seconds, WEBHOOK_MAX_BYTES } from './nodeSettings';

interface SmsInDef extends NodeDef {
  url?: string;
  creds?: string;
  /** Seconds to wait for the missing parts of a long SMS. */
  concatwait?: string | number;
  /** Seconds within which a repeated messageId is a retry. */
  dedupwindow?: string | number;
  /** Seconds a signed request's timestamp may be off. */
  sigwindow?: string | number;
}

export = function (RED: NodeAPI) {
  function SmsIn(this: Node, config: SmsInDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const url = (config.url || '/sms').replace(/^(?!\/)/, '/');
    const signing = webhookSigning(RED, node, 'vonage-sms-in', config.creds, url);
    const recent = webhookDedup(RED, node, 'sms-in', seconds(config.dedupwindow, 86_400) * 1000, signing.signedBy);
    let received = 0;

    const emit = (sms: AssembledSms) => {
      const payload: Record<string, unknown> = { ...sms.params, received: receivedAt(sms.params['message-timestamp']) };
      if (sms.parts.length > 1 || !sms.complete) {
        payload.parts = sms.parts;
        payload.complete = sms.complete;
        if (!sms.complete) payload.missing = sms.missing;
      }
      if (!sms.complete) node.warn(RED._('vonage-sms-in.warn.incomplete', { missing: partRanges(sms.missing), from: sms.params.msisdn }));
      // One SMS, however many parts it came in.
      received += 1;
      node.status({ fill: 'green', shape: 'dot', text: RED._('vonage-sms-in.status.received', { count: received }) });
      node.send({ payload, topic: sms.params.msisdn });
    };
    const assembler = new LongSmsAssembler(seconds(config.concatwait, 60) * 1000, emit);

    let stop: () => void = () => {};
    try {
      stop = serveWebhook(RED, node, {
        url,
        schema: INBOUND_SMS,
        signedBy: signing.signedBy,
        signatureWindowSeconds: seconds(config.sigwindow, 300),
        maxBodyBytes: WEBHOOK_MAX_BYTES,
        async accepted(params) {
          if (await recent.seen(params, params.messageId)) return;
          if (isPartOfLongSms(params)) assembler.add(params);
          else emit({ params, parts: [params], complete: true, missing: [] });
        },
        rejected: signing.rejected,
        shared: signing.shared,
      });
    } catch (err) {
      node.error((err as Error).message);
    }

    node.on('close', () => {
      stop();
      recent.close();
      // Parts still waiting go on as they are: nothing dropped silently.
      assembler.flushAll();
    });
  }

  RED.nodes.registerType('vonage-sms-in', SmsIn);
};
