/**
 * Issue 21, "a half-answer sends twice", through the real runtime and real HTTP on both of Vonage's
 * APIs: a request the API carried out and then answered badly (a gateway's empty 502, an HTML 504, a
 * dropped connection) is never sent again, and reaches a Catch node with `msg.sms.maybeSent === true`;
 * what provably was not carried out (throttling, Vonage's own refusals, a refused connection) is retried
 * and sent once.
 */
import should from 'should';
import { LoopbackVonageSmsApi, type Fault } from '../../dev/loopback/vonageSmsApi';
import { useLoopbackApi } from '../support/loopback';
import { docTable } from '../support/docTable';
import { coreNodes, helper, nodeRedVersion, packageNodes, type FlowNode } from '../support/nodeRed';
import { freePort } from '../support/ports';
import { until } from '../support/waitFor';
import type { SendOutcome, VonageClient } from '../../src/vonage/client';

const API_KEY = 'half0002';
const API_SECRET = 'half-answer-secret-7';

for (const which of ['sms', 'messages'] as const) {
  describe(`a half-answer on the ${which === 'sms' ? 'SMS API' : 'Messages API'} (Node-RED ${nodeRedVersion})`, function () {
    this.timeout(60_000);
    const loopback = useLoopbackApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 1000 }]);
    const { api } = loopback;
    const accepted = () => (which === 'sms' ? api.sent : api.sentMessages);

    async function load(config: Record<string, unknown>, restHost = loopback.restHost) {
      const flow: FlowNode[] = [
        { id: 'tab', type: 'tab', label: 'half' },
        { id: 'cfg', type: 'nexmobasic', api: which, resthost: restHost, timeout: 2, perrecipient: 0, ...config },
        { id: 'send', z: 'tab', type: 'sendsms', creds: 'cfg', to: '447700900123', fr: 'Half', text: '{{msg.payload}}', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ];
      await helper.load([...packageNodes, coreNodes.catch], flow, { cfg: { apikey: API_KEY, apisecret: API_SECRET } });
    }

    /** Sends each text as a msg, and waits until as many msgs came out, passed on or caught. */
    async function run(texts: string[]): Promise<{ sent: any[]; caught: any[] }> {
      const sent: any[] = [];
      const caught: any[] = [];
      helper.getNode('out').on('input', (m: any) => sent.push(m));
      helper.getNode('caught').on('input', (m: any) => caught.push(m));
      for (const payload of texts) helper.getNode('send').receive({ payload });
      await until(() => sent.length + caught.length >= texts.length, { what: () => `${texts.length} msgs out (${sent.length} sent, ${caught.length} caught so far)`, timeoutMs: 45_000 });
      return { sent, caught };
    }

    /** How many times the loopback accepted each text. */
    function acceptedCounts(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const r of accepted()) counts.set(r.params.text, (counts.get(r.params.text) ?? 0) + 1);
      return counts;
    }

    it('600 SMS, every 40th carried out then answered 502 empty, 504 HTML or dropped: none accepted twice, each such SMS caught with msg.sms.maybeSent', async () => {
      await load({ rate: 300, retries: 3 });
      const halves: Fault[] = [
        { kind: 'accepted-then', answer: 'http-502-empty' },
        { kind: 'accepted-then', answer: 'http-504-html' },
        { kind: 'accepted-then', answer: 'drop' },
      ];
      api.injectEvery(40, ...halves);
      const texts = Array.from({ length: 600 }, (_, i) => `half-answer ${i}`);
      const { sent, caught } = await run(texts);

      // Every request to the API was carried out once, faulted or not: no text accepted twice.
      const counts = acceptedCounts();
      should([...counts.values()].filter((n) => n > 1)).be.empty();
      should(api.requests.filter((r) => r.fault === 'accepted-then')).have.length(15);
      should(api.requests).have.length(600);

      // Accepted once and reported either way: passed on, or caught with maybeSent.
      const reported = caught.map((m) => m.payload as string);
      should(sent.length + caught.length).equal(600);
      should([...sent.map((m) => m.payload.message_uuid ?? m.sms.text), ...reported]).have.length(600);
      should([...counts.keys()].sort()).eql([...texts].sort());
      const halfAnswered = api.requests.filter((r) => r.fault === 'accepted-then').map((r) => r.params.text);
      should([...reported].sort()).eql([...halfAnswered].sort());
      should(
        sent
          .map((m) => m.sms.text)
          .concat(reported)
          .sort(),
      ).eql([...texts].sort());

      for (const msg of caught) {
        should(msg.sms.maybeSent).equal(true);
        should(msg.error.message).match(/may have been sent/);
      }
      should(caught.map((m) => m.error.message).some((t: string) => /HTTP 502/.test(t))).be.true();
      should(caught.map((m) => m.error.message).some((t: string) => /HTTP 504/.test(t))).be.true();
      should(caught.map((m) => m.error.message).some((t: string) => /connection .* failed .*it may have been sent/.test(t))).be.true();
      for (const msg of sent) should(msg.sms).not.have.property('maybeSent');
    });

    it("retries throttling, Vonage's own refusals and its own 5xx JSON, and sends the SMS once", async () => {
      await load({ retries: 3 });
      const faults: Fault[] =
        which === 'sms'
          ? [
              { kind: 'throttle', waitMs: 20 },
              { kind: 'status', status: '5' },
              { kind: 'status', status: '10' },
              { kind: 'http', code: 500 },
            ]
          : [
              { kind: 'throttle', waitMs: 20 },
              { kind: 'http', code: 500 },
              { kind: 'http', code: 503 },
            ];
      api.injectFaults(...faults);
      const { sent, caught } = await run(['persistent']);
      should(caught).be.empty();
      should(sent).have.length(1);
      should(api.requests.map((r) => r.fault)).eql([...faults.map((f) => f.kind), undefined]);
      should(acceptedCounts()).eql(new Map([['persistent', 1]]));
    });

    it("an SMS refused in Vonage's own words once retries are used up is caught with msg.sms.maybeSent false", async () => {
      await load({ retries: 0 });
      api.injectFaults({ kind: 'http', code: 500 });
      const { sent, caught } = await run(['refused']);
      should(sent).be.empty();
      should(caught[0].sms).have.properties({ text: 'refused', maybeSent: false });
      should(caught[0].error.message).match(/not sent/);
      should(accepted()).be.empty();
    });

    describe("the retry table (docs/sending-sms.md): each row's failure, retried or not, and msg.sms.maybeSent", () => {
      const rows = docTable('docs/sending-sms.md', 'retry-table').map((cells) => ({
        number: Number(cells[0]),
        failure: cells[1],
        retried: /^(\*\*)?yes/.test(cells[2]),
        maybeSent: /`maybeSent` `true`/.test(cells[3]),
      }));
      // Each row's failure on this API, faulted at every attempt; undefined: the row is not this API's.
      const scenarios: Record<number, { faults?: Fault[]; config?: Record<string, unknown>; text?: string; refused?: true; recovers?: true } | undefined> = {
        // Throttling has an allowance of its own (20, at the Messages API's Retry-After of 1 s or more): one throttle, then sent.
        1: { faults: [{ kind: 'throttle', waitMs: 1 }], recovers: true },
        2:
          which === 'sms'
            ? {
                faults: [
                  { kind: 'status', status: '5' },
                  { kind: 'status', status: '10' },
                ],
              }
            : undefined,
        3: {
          faults: [
            { kind: 'http', code: 500 },
            { kind: 'http', code: 503 },
          ],
        },
        4: { refused: true },
        5: { faults: [{ kind: 'accepted-then', answer: 'http-502-empty' }] },
        6: { faults: [{ kind: 'accepted-then', answer: 'drop' }] },
        7: { faults: [{ kind: 'slow', delayMs: 1500 }], config: { timeout: 0.5 } },
        8: { faults: [{ kind: 'not-json' }] },
        9: which === 'sms' ? { faults: [{ kind: 'partial', status: '5' }], text: 'x'.repeat(200) } : undefined,
        10: {
          faults: [
            { kind: 'http', code: 401 },
            { kind: 'http', code: 401 },
          ],
        },
      };

      it('has rows 1–10 as this spec knows them', () => {
        should(rows.map((r) => r.number).slice(0, 10)).eql([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      });

      for (const row of rows.filter((r) => r.number <= 10)) {
        const scenario = scenarios[row.number];
        if (!scenario) continue;
        it(`row ${row.number}: ${row.failure.slice(0, 60)}… ${row.retried ? 'retried' : 'not retried'}, maybeSent ${row.maybeSent}`, async () => {
          // One retry (two attempts) for a retried failure, faulted both times: it then fails as not sent.
          await load({ retries: 1, ...scenario.config }, scenario.refused ? `http://127.0.0.1:${await freePort()}` : loopback.restHost);
          if (scenario.faults) api.injectFaults(...scenario.faults);
          const client = (helper.getNode('cfg') as unknown as { client: VonageClient }).client;
          let attempts = 0;
          const send = client.send.bind(client);
          client.send = (request) => ((attempts += 1), send(request));
          const { sent, caught } = await run([scenario.text ?? `row ${row.number}`]);
          if (scenario.recovers) {
            should(row.retried).be.true();
            should(caught).be.empty();
            should(attempts).equal(2);
            should(accepted()).have.length(1);
            return;
          }
          should(sent).be.empty();
          should(caught[0].sms.maybeSent).equal(row.maybeSent);
          should(attempts > 1).equal(row.retried);
          // What may have been sent was sent at most once; what was retried never reached the API's accepted list.
          should(accepted().length).be.belowOrEqual(1);
          if (!row.maybeSent) should(accepted()).be.empty();
        });
      }
    });

    it('retries a connection refused (nothing listening yet) and sends the SMS once', async () => {
      const port = await freePort();
      const late = new LoopbackVonageSmsApi([{ apiKey: API_KEY, apiSecret: API_SECRET, balance: 10 }]);
      try {
        await load({ retries: 8 }, `http://127.0.0.1:${port}`);
        // The client's outcomes, as the queue gets them: the test starts the API once one was refused.
        const client = (helper.getNode('cfg') as unknown as { client: VonageClient }).client;
        const outcomes: SendOutcome[] = [];
        const send = client.send.bind(client);
        client.send = async (request) => {
          const outcome = await send(request);
          outcomes.push(outcome);
          return outcome;
        };
        const results = run(['refused at first']);
        await until(() => outcomes.length > 0, { what: 'a first attempt' });
        should(outcomes[0].kind).equal('retry');
        should((outcomes[0] as { error: Error }).error.message).match(/ECONNREFUSED.*was not sent/);
        await late.listen(port);
        const { sent, caught } = await results;
        should(caught).be.empty();
        should(sent).have.length(1);
        should(outcomes.every((o, i) => (i < outcomes.length - 1 ? o.kind === 'retry' : o.kind === 'sent'))).be.true();
        should((which === 'sms' ? late.sent : late.sentMessages).map((r) => r.params.text)).eql(['refused at first']);
      } finally {
        await helper.unload();
        await late.close();
      }
    });
  });
}
