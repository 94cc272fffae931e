/**
 * The opt-out list of an account without a Shared state, across restarts of a real Node-RED
 * (red.js) with default settings: stopped as Ctrl-C would, or killed the moment after SMS in
 * answered the STOP 200. Nothing is configured for it: the list is a file in the user directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import should from 'should';
import { LoopbackVonageSmsApi } from '../../dev/loopback/vonageSmsApi';
import { inboundRequests } from '../../dev/loopback/webhooks';
import { RealNodeRed } from '../support/realNodeRed';
import { until } from '../support/waitFor';

const API_KEY = 'restart1';
const API_SECRET = 'restart-secret-1';

function flows(restHost: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'opt-outs across restarts' },
    { id: 'cfg', type: 'nexmobasic', name: 'account', resthost: restHost, timeout: 5 },
    { id: 'in', z: 'tab', type: 'vonage-sms-in', url: '/sms', wires: [[]] },
    // POST /send {"to": [...]}: one SMS to each number.
    { id: 'send', z: 'tab', type: 'http in', url: '/send', method: 'post', wires: [['ack', 'toList']] },
    { id: 'ack', z: 'tab', type: 'http response', statusCode: '202', wires: [] },
    { id: 'toList', z: 'tab', type: 'change', rules: [{ t: 'move', p: 'payload.to', pt: 'msg', to: 'to', tot: 'msg' }], wires: [['sms']] },
    { id: 'sms', z: 'tab', type: 'sendsms', creds: 'cfg', to: '', fr: 'AcmeInc', text: 'Your parcel is on its way', wires: [[]] },
  ];
}

describe('opt-outs across restarts of a real Node-RED', function () {
  this.timeout(120_000);
  const api = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 100 }]);
  let red: RealNodeRed | undefined;

  before(async () => {
    const restHost = await api.listen();
    red = await RealNodeRed.start({ flows: flows(restHost), credentials: { cfg: { apikey: API_KEY, apisecret: API_SECRET } } });
  });
  after(async () => {
    await red?.stop();
    await api.close();
  });

  async function stop(from: string): Promise<void> {
    const [params] = inboundRequests({ msisdn: from, to: '447700900000', text: 'Stop.' }, { apiKey: API_KEY });
    const res = await fetch(`${red!.base}/sms?${new URLSearchParams(params)}`);
    await res.text();
    should(res.status).equal(200);
  }

  /** Resolves with the numbers the SMS went to, once each number has its outcome: sent, or refused in the log. */
  async function sendTo(to: string[]): Promise<string[]> {
    api.reset();
    const logged = red!.log.length;
    const res = await fetch(`${red!.base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to }) });
    should(res.status).equal(202);
    const done = (number: string) => api.sent.some((r) => r.params.to === number) || red!.log.slice(logged).includes(`not sent to +${number}`);
    await until(() => to.every(done), { what: () => `an outcome for each of ${to.join(', ')} (not yet: ${to.filter((n) => !done(n)).join(', ')})` });
    return api.sent.map((r) => r.params.to).sort();
  }

  for (const how of ['stopped as Ctrl-C would', 'killed right after answering the STOP'] as const) {
    it(`honours a STOP after Node-RED is ${how}`, async () => {
      const number = how.startsWith('killed') ? '447700900102' : '447700900101';
      await stop(number);
      red = await red!.restart({ crash: how.startsWith('killed') });
      should(await sendTo([number, '447700900199'])).eql(['447700900199']);
      should(red.log).match(new RegExp(`not sent to \\+${number}: this number opted out on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC`));
      should(fs.readFileSync(path.join(red.userDir, 'vonage-sms', `optouts-${API_KEY}.txt`), 'utf8')).containEql(`+${number} `);
    });
  }
});
