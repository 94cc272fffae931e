/**
 * The `nexmobasic` config node: a Vonage API key and secret, the API host and a default country.
 * It owns one SMS API client, built on first use and shared by every Send SMS node that
 * selects it; a redeploy of this node builds a new one.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { NexmoBasicCredentials, NexmoBasicNode } from './accountNode';
import { isCountryCode } from './sms/phoneNumber';
import { DEFAULT_REST_HOST, isRestHost, VonageSmsClient } from './sms/smsClient';

interface NexmoBasicDef extends NodeDef {
  resthost?: string;
  country?: string;
  timeout?: string | number;
}

const DEFAULT_TIMEOUT_SECONDS = 10;

export = function (RED: NodeAPI) {
  function NexmoBasic(this: Node<NexmoBasicCredentials>, config: NexmoBasicDef) {
    RED.nodes.createNode(this, config);
    const node = this as NexmoBasicNode;
    // A flow from node-red-contrib-nexmo has no API host: VONAGE_REST_HOST, then Vonage's own.
    const restHost = (config.resthost ?? '').trim() || process.env.VONAGE_REST_HOST?.trim() || DEFAULT_REST_HOST;
    const timeoutSeconds = Number(config.timeout) > 0 ? Number(config.timeout) : DEFAULT_TIMEOUT_SECONDS;
    node.country = (config.country ?? '').trim().toUpperCase();

    let client: VonageSmsClient | undefined;
    node.smsClient = () => {
      if (client) return client;
      const apiKey = node.credentials?.apikey?.trim();
      const apiSecret = node.credentials?.apisecret;
      if (!apiKey) return new Error(RED._('nexmobasic.errors.no-apikey'));
      if (!apiSecret) return new Error(RED._('nexmobasic.errors.no-apisecret'));
      if (!isRestHost(restHost)) return new Error(RED._('nexmobasic.errors.bad-resthost', { resthost: restHost }));
      if (node.country && !isCountryCode(node.country)) {
        return new Error(RED._('nexmobasic.errors.bad-country', { country: node.country }));
      }
      client = new VonageSmsClient({ apiKey, apiSecret, restHost, timeoutMs: timeoutSeconds * 1000 });
      return client;
    };
  }

  RED.nodes.registerType<Node<NexmoBasicCredentials>, NexmoBasicDef, object, NexmoBasicCredentials>('nexmobasic', NexmoBasic, {
    credentials: {
      apikey: { type: 'text' },
      apisecret: { type: 'password' },
    },
  });
};
