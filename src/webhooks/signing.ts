/**
 * What SMS in and SMS receipt say about their webhook: "Signed by" (which `nexmobasic` signs it, and
 * what the node says when that cannot work), refused requests, and another node on the same path. A chosen node that is missing, disabled or has no signature secret
 * fails closed: every request is refused (503, so Vonage retries once it is fixed), the status says
 * why, and one warning at start says what to do.
 */
import type { Node, NodeAPI } from 'node-red';
import type { NexmoBasicNode } from '../account/accountNode';
import type { RejectReason } from './endpoint';
import { throttledWarnings, times, type ThrottledWarnings } from '../node-red/warnings';

export interface WebhookSigning {
  signedBy: NexmoBasicNode | null | undefined;
  /** Counts a refused request, shows it in the status and warns (`<type>.warn.<reason>`). */
  rejected(reason: RejectReason, from: string): void;
  /** Says, in the status and a warning, that another node serves the same path. */
  shared(how: 'shadowed' | 'shadowing', others: number): void;
  /** The node's warnings that a flood could repeat: one a kind a minute, with the count. Closed with the node. */
  warnings: ThrottledWarnings;
}

export function webhookSigning(RED: NodeAPI, node: Node, type: string, creds: string | undefined, url: string): WebhookSigning {
  const signedBy = creds ? ((RED.nodes.getNode(creds) as NexmoBasicNode | null) ?? null) : undefined;
  const problem = signedBy === null ? 'signer-missing' : signedBy && !signedBy.signature ? 'signer-no-secret' : undefined;
  if (problem) {
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${type}.status.${problem}`) });
    node.warn(RED._(`${type}.warn.${problem}`, { name: signedBy?.name || creds || '' }));
  }
  const warnings = throttledWarnings((line) => node.warn(line));
  let rejected = 0;
  return {
    signedBy,
    warnings,
    rejected(reason, from) {
      rejected += 1;
      if (reason === 'unconfigured') return;
      node.status({ fill: 'red', shape: 'ring', text: RED._(`${type}.status.rejected`, { count: rejected }) });
      // Anyone can send these by the thousand: one line a kind a minute, with the total so far.
      warnings.warn(`rejected-${reason}`, (count) => RED._(`${type}.warn.${reason}`, { from, count: rejected }) + times(count));
    },
    shared(how, others) {
      node.status({ fill: 'yellow', shape: 'ring', text: RED._(`${type}.status.${how}`) });
      node.warn(RED._(`${type}.warn.${how}`, { url, count: others }));
    },
  };
}
