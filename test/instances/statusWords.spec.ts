/**
 * What a node's status says, in the words of a real Node-RED (its message catalogue, not the test helper's
 * bare keys): a Send SMS that refuses bad input names which input. A core status node reports each status to
 * a collector over real HTTP.
 */
import should from 'should';
import { RealNodeRed } from '../support/realNodeRed';
import { startCollector, type Collector } from '../support/collector';
import { until } from '../support/waitFor';

describe('status words in a real Node-RED', function () {
  this.timeout(60_000);
  let red: RealNodeRed | undefined;
  let collector: Collector<{ text?: string }>;

  before(async () => {
    collector = await startCollector();
    const flows = [
      { id: 'tab', type: 'tab', label: 'statuses' },
      { id: 'cfg', type: 'nexmobasic', name: 'words', resthost: 'http://127.0.0.1:9', timeout: 1 },
      { id: 'go', z: 'tab', type: 'http in', url: '/go', method: 'post', wires: [['ok', 'send']] },
      { id: 'ok', z: 'tab', type: 'http response', statusCode: '202', wires: [] },
      // An empty Text: refused before anything is sent.
      { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'Acme', text: '{{msg.payload.text}}', wires: [[]] },
      { id: 'watch', z: 'tab', type: 'status', scope: ['send'], wires: [['report']] },
      { id: 'report', z: 'tab', type: 'function', func: 'msg.payload = { text: msg.status.text }; return msg;', outputs: 1, wires: [['post']] },
      { id: 'post', z: 'tab', type: 'http request', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: collector.url, wires: [[]] },
    ];
    red = await RealNodeRed.start({ flows, credentials: { cfg: { apikey: 'words001', apisecret: 'words-secret' } } });
  });
  after(async () => {
    await red?.stop();
    collector?.close();
  });

  it('a Send SMS refusing bad input says which input in its status', async () => {
    const res = await fetch(`${red!.base}/go`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: '' }) });
    should(res.status).equal(202);
    await until(() => collector.events.some((e) => /bad input/.test(e.text ?? '')), { what: 'the bad-input status' });
    should(collector.events.find((e) => /bad input/.test(e.text ?? ''))!.text).equal('failed: bad input: Text is empty');
  });
});
