import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { LoopbackVonageSmsApi } from './loopback/vonageSmsApi';
helper.init(require.resolve('node-red'));
const ROOT = path.join(__dirname, '..');
const nodes = ['nexmobasic', 'sendsms'].map((n) => require(path.join(ROOT, 'nodes', `${n}.js`)));
(async () => {
  const api = new LoopbackVonageSmsApi([{ apiKey: 'k1', apiSecret: 's1', balance: 1e9 }]);
  const host = await api.listen();
  const mode = process.argv[2] ?? 'sendsms';
  const flow = [
    { id: 't', type: 'tab' },
    { id: 'c', type: 'nexmobasic', resthost: host, rate: 100000, queuesize: 100, timeout: 30 },
    { id: 's', z: 't', type: 'sendsms', creds: 'c', to: '447700900123', fr: 'Bench', text: 'Hello {{msg.payload}}', dryrun: mode === 'dry', wires: [['o']] },
    { id: 'o', z: 't', type: 'helper' },
  ];
  await helper.load(nodes, flow, { c: { apikey: 'k1', apisecret: 's1' } });
  (helper as any)._logSpy?.restore(); (helper as any)._sandbox?.restore();
  const node = helper.getNode('s'); const out = helper.getNode('o');
  const times: number[] = [];
  for (let i = 0; i < 1500; i++) {
    const s = performance.now();
    await new Promise<void>((resolve) => { out.once('input', () => resolve()); node.receive({ payload: i }); });
    if (i > 300) times.push(performance.now() - s);
    api.reset();
  }
  times.sort((a, b) => a - b);
  console.log(mode, times[times.length >> 1].toFixed(3));
  await helper.unload();
  process.exit(0);
})();
