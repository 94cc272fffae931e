/**
 * SMS receipt (`vonage-sms-receipt`): serves Vonage's delivery-receipt webhook, answers 200 at
 * once, and passes each receipt on once, with whether its status is final and what its err-code
 * means. `client-ref` ties it to the Send SMS msg that caused it.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { describeErrorCode, isFinalStatus } from './vonage/deliveryReceipt';
import type { AccountState } from './state/accountState';
import { webhookState } from './webhooks/state';
import { receivedAt } from './sms/webhookTime';
import { DELIVERY_RECEIPT } from './sms/webhookFields';
import { serveWebhook } from './webhooks/endpoint';
import { webhookSigning } from './webhooks/signing';
import { receiptOptOut } from './account/optOutAccounts';
import { describeMessagesError, isMessagesFinalStatus } from './vonage/messagesErrors';
import { messagesTime } from './vonage/messagesWebhooks';
import { numberSetting as seconds, WEBHOOK_MAX_BYTES } from './node-red/settings';

interface SmsReceiptDef extends NodeDef {
  url?: string;
  creds?: string;
  dedupwindow?: string | number;
  sigwindow?: string | number;
}

export = function (RED: NodeAPI) {
  function SmsReceipt(this: Node, config: SmsReceiptDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const url = (config.url || '/sms/receipt').replace(/^(?!\/)/, '/');
    const signing = webhookSigning(RED, node, 'vonage-sms-receipt', config.creds, url);
    const state = webhookState(RED, node, 'vonage-sms-receipt', signing.signedBy, signing.warnings);
    const dedupWindowMs = seconds(config.dedupwindow, 86_400) * 1000;
    const recentIds = (account: AccountState) => account.recentIds('receipt', dedupWindowMs);
    let otherChannels = 0;

    let stop: () => void = () => {};
    try {
      stop = serveWebhook(RED, node, {
        url,
        schema: DELIVERY_RECEIPT,
        signedBy: signing.signedBy,
        signatureWindowSeconds: seconds(config.sigwindow, 300),
        maxBodyBytes: WEBHOOK_MAX_BYTES,
        messages: 'status',
        async accepted(params, messages) {
          // A retry repeats all of these; a new status for the same message is a new receipt.
          const id = `${params.messageId}|${params.status}|${params['err-code'] ?? ''}`;
          // Recorded before the retry check: recording twice is harmless, and a failed recording is retried by Vonage.
          const optedOut = await state.use(() => receiptOptOut(signing.signedBy, params, messages ? 'messages' : 'sms'));
          if (await state.use(() => state.forRequest(params, recentIds).seen(id))) return;
          const final = messages ? isMessagesFinalStatus(params.status) : isFinalStatus(params.status);
          // The Messages API's status webhook is kept as sent, with what the SMS API's receipts also get.
          const payload = messages
            ? { ...messages, final, errorMeaning: describeMessagesError(params['err-code']), received: messagesTime(messages.timestamp) }
            : { ...params, final, errCodeMeaning: describeErrorCode(params['err-code']), received: receivedAt(params['message-timestamp']) };
          if (optedOut) Object.assign(payload, { optOut: 'stop' });
          node.status({ fill: params.status === 'delivered' ? 'green' : final ? 'red' : 'blue', shape: 'dot', text: params.status });
          node.send({ payload, topic: params['client-ref'] ?? params.messageId });
        },
        otherChannel(channel) {
          otherChannels += 1;
          signing.warnings.warn('other-channel', () => RED._('vonage-sms-receipt.warn.other-channel', { channel, count: otherChannels }));
        },
        rejected: signing.rejected,
        shared: signing.shared,
      });
    } catch (err) {
      node.error((err as Error).message);
    }

    node.on('close', () => {
      stop();
      state.close();
      signing.warnings.close();
    });
  }

  RED.nodes.registerType('vonage-sms-receipt', SmsReceipt);
};
