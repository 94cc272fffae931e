/**
 * SMS in (`vonage-sms-in`): serves Vonage's inbound-SMS webhook, answers 200 at once, and passes
 * each SMS on once: long SMS joined from their parts, Vonage's retries dropped, forged requests
 * refused when the selected `nexmobasic` has a signature secret. `msg.payload` keeps Vonage's
 * field names (msisdn, to, text, messageId, …), so reply templates work as with `http in`.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { isPartOfLongSms, partRanges, type AssembledSms } from './sms/longSms';
import type { AccountState } from './state/accountState';
import { webhookState } from './webhooks/state';
import { receivedAt } from './sms/webhookTime';
import { INBOUND_SMS } from './sms/webhookFields';
import { serveWebhook } from './webhooks/endpoint';
import { times } from './node-red/warnings';
import { webhookSigning } from './webhooks/signing';
import { webhookOptOuts, type KeywordOutcome } from './webhooks/optOuts';
import type { OptOutMark } from './sms/optOut';
import { messagesTime, type MessagesBody } from './vonage/messagesWebhooks';
import { numberSetting as seconds, WEBHOOK_MAX_BYTES } from './node-red/settings';

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
    const state = webhookState(RED, node, 'vonage-sms-in', signing.signedBy, signing.warnings);
    const optOuts = webhookOptOuts(RED, node, signing.signedBy);
    const dedupWindowMs = seconds(config.dedupwindow, 86_400) * 1000;
    const waitMs = seconds(config.concatwait, 60) * 1000;
    let received = 0;

    const emit = (sms: AssembledSms, mark?: OptOutMark) => {
      const payload: Record<string, unknown> = { ...sms.params, received: receivedAt(sms.params['message-timestamp']) };
      // A flow may react to an opt-out, or ask a "maybe" once; HELP is not one.
      if (mark) payload.optOut = mark;
      if (sms.parts.length > 1 || !sms.complete) {
        payload.parts = sms.parts;
        payload.complete = sms.complete;
        if (!sms.complete) payload.missing = sms.missing;
      }
      if (!sms.complete) signing.warnings.warn('incomplete', (count) => RED._('vonage-sms-in.warn.incomplete', { missing: partRanges(sms.missing), from: sms.params.msisdn }) + times(count));
      pass(payload, sms.params.msisdn);
    };
    /** One SMS, however many parts it came in. */
    const pass = (payload: Record<string, unknown>, from: string) => {
      received += 1;
      node.status({ fill: 'green', shape: 'dot', text: RED._('vonage-sms-in.status.received', { count: received }) });
      node.send({ payload, topic: from });
    };
    /**
     * A Messages API SMS: Vonage's fields as sent (from, to, text, message_uuid, timestamp, sms, usage,
     * origin…), with `msisdn` and `messageId`, so that the tutorial's reply templates work on either API.
     */
    const emitMessages = (body: MessagesBody, params: Record<string, string>, mark?: OptOutMark) => {
      const payload: Record<string, unknown> = { ...body, msisdn: params.msisdn, messageId: params.messageId, received: messagesTime(body.timestamp) };
      if (mark) payload.optOut = mark;
      pass(payload, params.msisdn);
    };
    let otherChannels = 0;

    // Made once for each account state a request leads to (this node's memory, or a shared Redis).
    const recentIds = (account: AccountState) => account.recentIds('sms-in', dedupWindowMs);
    const longSms = (account: AccountState) => account.longSms({ waitMs }, emit);

    let stop: () => void = () => {};
    try {
      stop = serveWebhook(RED, node, {
        url,
        schema: INBOUND_SMS,
        signedBy: signing.signedBy,
        signatureWindowSeconds: seconds(config.sigwindow, 300),
        maxBodyBytes: WEBHOOK_MAX_BYTES,
        messages: 'inbound',
        async accepted(params, messages) {
          // Marked as seen first, so that a keyword is applied once a message id (a retried or replayed START
          // cannot undo a later STOP); taken back if the message could not be handled, so that Vonage's retry is.
          // A mark whose call failed (a Redis that answered too late) is taken back by the store itself.
          const mark = await state.use(() => state.forRequest(params, recentIds).mark(params.messageId));
          if (!mark) return;
          let outcome: KeywordOutcome = { changed: false };
          try {
            // A keyword is one short SMS, never a part of a long one.
            if (!isPartOfLongSms(params)) {
              const at = messages ? messagesTime(messages.timestamp) : receivedAt(params['message-timestamp']);
              outcome = await state.use(() => optOuts.inbound(params, at));
            }
            // The Messages API joins long SMS itself: one webhook, passed on as it came.
            if (messages) emitMessages(messages, params, outcome.mark);
            else if (isPartOfLongSms(params)) await state.use(() => state.forRequest(params, longSms).add(params));
            else emit({ params, parts: [params], complete: true, missing: [] }, outcome.mark);
          } catch (err) {
            // This request's own mark only: never one that an earlier delivery of the id made.
            await mark.forget().catch(() => {});
            throw err;
          }
          // The one confirmation, of a keyword that changed the list.
          if (outcome.keyword && (outcome.changed || outcome.keyword === 'help')) optOuts.confirm(params, outcome.keyword);
        },
        otherChannel(channel) {
          // Answered 200 (or Vonage would retry it for good) and not passed on: this node is for SMS.
          otherChannels += 1;
          signing.warnings.warn('other-channel', () => RED._('vonage-sms-in.warn.other-channel', { channel, count: otherChannels }));
        },
        rejected: signing.rejected,
        shared: signing.shared,
      });
    } catch (err) {
      node.error((err as Error).message);
    }

    node.on('close', () => {
      stop();
      optOuts.close();
      signing.warnings.close();
      // Parts still waiting in memory go on as they are (nothing dropped silently); in shared state
      // they stay, for the wait to end on another instance, or on this one after a restart.
      state.close();
    });
  }

  RED.nodes.registerType('vonage-sms-in', SmsIn);
};
