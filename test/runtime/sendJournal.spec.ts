/**
 * The send journal in a real redis-server: what an instance records of its waiting SMS, how another takes a
 * dead one over, how a frozen one that was taken over carries on, and what a Redis that lost everything gets
 * written again. The two real processes of the fault suite (test/instances/faults.spec.ts) build on this.
 */
import Redis from 'ioredis';
import should from 'should';
import { TakenOverError, type JournalEntry } from '../../src/state/accountState';
import { RedisAccountState } from '../../src/state/redisAccountState';
import { RedisSendJournal } from '../../src/state/redisSendJournal';
import { SendQueue } from '../../src/sending/sendQueue';
import { MemoryRateLimiter } from '../../src/sending/rateLimiter';
import { SharedRateLimiter } from '../../src/sending/sharedRateLimiter';
import type { SendOutcome } from '../../src/vonage/client';
import { startRedis, type RunningRedis } from '../support/redisServer';
import { until } from '../support/waitFor';

const KEY = 'journal1';
const prefix = `vonage-sms:{${KEY}}:`;
const sms = (to: string) => ({ to, from: 'Journal', text: `to ${to}`, type: 'text' as const });
const entry = (id: string, owner: string): JournalEntry => ({ id, owner, request: sms(`44770090${id.padStart(4, '0')}`), msgid: `msg-${id}`, topic: 'journal' });

describe('the send journal in Redis', function () {
  this.timeout(30_000);
  let redis: RunningRedis;
  let look: Redis;
  const states: RedisAccountState[] = [];
  const state = () => {
    const made = new RedisAccountState(redis.url, KEY);
    states.push(made);
    return made;
  };
  /** The journals in Redis: instance → entry ids. */
  const journals = async () => {
    const out = new Map<string, string[]>();
    for (const instance of await look.smembers(`${prefix}journals`)) out.set(instance, (await look.hkeys(`${prefix}journal:${instance}`)).sort());
    return out;
  };

  before(async () => {
    redis = await startRedis();
    look = new Redis(redis.url);
  });
  afterEach(async () => {
    await Promise.all(states.splice(0).map((s) => s.close()));
    await look.flushall();
  });
  after(async () => {
    look.disconnect();
    await redis.stop();
  });

  it('records each waiting SMS under a lease, and forgets it once sent or failed', async () => {
    const journal = state().sendJournal() as RedisSendJournal;
    await Promise.all([journal.add(entry('1', 'n1')), journal.add(entry('2', 'n1'))]);
    const [[instance, ids]] = [...(await journals())];
    should(ids).eql(['1', '2']);
    should(await look.pttl(`${prefix}lease:${instance}`)).be.within(1, 10_000);
    const stored = JSON.parse((await look.hget(`${prefix}journal:${instance}`, '1'))!);
    should(stored).eql({ i: '1', o: 'n1', r: sms('44770090' + '0001'), m: 'msg-1', t: 'journal' });
    await journal.sending('1');
    should(await look.smembers(`${prefix}sending:${instance}`)).eql(['1']);
    journal.remove('1');
    await until(async () => (await look.hlen(`${prefix}journal:${instance}`)) === 1, { what: 'the sent SMS forgotten' });
    should(await look.smembers(`${prefix}sending:${instance}`)).eql([]);
    await journal.close();
    // A graceful stop: the lease goes; the journal still holds an SMS (one taken over as it stopped), so it stays for another instance.
    should(await look.exists(`${prefix}lease:${instance}`)).equal(0);
    should(await look.hkeys(`${prefix}journal:${instance}`)).eql(['2']);
  });

  it("takes over a dead instance's SMS of the Send SMS nodes it has: those waiting to send, those being sent as maybe sent", async () => {
    const dead = state().sendJournal() as RedisSendJournal;
    const alive = state().sendJournal() as RedisSendJournal;
    await Promise.all([dead.add(entry('1', 'n1')), dead.add(entry('2', 'n1')), dead.add(entry('3', 'n2'))]);
    await dead.sending('2');
    await alive.renew();
    // Not while the lease lasts.
    should(await alive.takeOver(['n1', 'n2'], 10)).eql({ waiting: [], inFlight: [] });
    // The lease runs out (the instance was killed): deleted here rather than waited for.
    for (const instance of (await journals()).keys()) if ((await look.hexists(`${prefix}journal:${instance}`, '1')) === 1) await look.del(`${prefix}lease:${instance}`);
    const taken = await alive.takeOver(['n1'], 10);
    should(taken.waiting.map((e) => e.id)).eql(['1']);
    should(taken.waiting[0]).eql(entry('1', 'n1'));
    should(taken.inFlight.map((e) => e.id)).eql(['2']);
    // n2 is not a node of the taking instance: its SMS stays, for an instance that has it.
    const after = await journals();
    should([...after.values()]).containEql(['3']);
    should([...after.values()]).containEql(['1']);
    // The "dead" instance was only frozen: it sends nothing more of its old journal, and carries on with what is still its own.
    await should(dead.sending('3')).be.rejectedWith(TakenOverError);
    should(await dead.renew()).equal('taken');
    const { kept, moved } = await dead.rejoin(['1', '2', '3']);
    should([...kept]).eql(['3']);
    // Those another instance took over, whether or not this one had heard its write confirmed.
    should([...moved].sort()).eql(['1', '2']);
    should(await dead.renew()).equal('kept');
    await dead.sending('3');
  });

  it('closes at a redeploy with SMS cancelled while the shared rate limiter held them, and leaves no journal behind', async () => {
    const s = state();
    let answered = 0;
    const client = { send: async (): Promise<SendOutcome> => ({ kind: 'sent', response: { 'message-count': '1', messages: [{ status: '0', 'message-id': String((answered += 1)) }] }, ids: [String(answered)] }) };
    // One SMS a second: of 40, most wait in the limiter's own queue (it asks for about a second's worth at once).
    const queue = new SendQueue(client, { ratePerSecond: 1, perSenderPerSecond: 0, maxQueued: 100, maxRetries: 0, backoffMs: 100, limiter: new SharedRateLimiter(s.sendSlots(1, 0)!, 1), journal: s.sendJournal() });
    const outcomes: Array<Error | undefined> = [];
    for (let n = 10; n < 50; n += 1) queue.enqueue(sms(`447700900${n}`), 'n1', { outcome: (err) => outcomes.push(err) }, { msgid: `m${n}` });
    await until(() => answered >= 1, { what: 'the first SMS sent' });
    // As Node-RED stops a flow: the Send SMS node cancels what waits, then the config node closes the queue.
    queue.cancel('n1', 'stopped');
    await queue.close('stopped');
    await until(() => outcomes.length === 40, { what: 'every SMS told' });
    should(outcomes.filter((err) => err === undefined).length).equal(answered);
    should([...(await journals()).values()].flat()).eql([]);
  });

  it('writes its waiting SMS again when Redis lost them (a restart without persistence), and leaves no journal after a stop', async () => {
    const s = state();
    const client = { send: () => new Promise<SendOutcome>(() => {}) };
    // One SMS a minute: the others wait.
    const queue = new SendQueue(client, { ratePerSecond: 1 / 60, perSenderPerSecond: 0, maxQueued: 10, maxRetries: 0, backoffMs: 100, limiter: new MemoryRateLimiter(1 / 60, 0), journal: s.sendJournal() });
    const outcomes: Array<Error | undefined> = [];
    for (const n of ['1', '2', '3']) queue.enqueue(sms(`4477009000${n}`), 'n1', { outcome: (err) => outcomes.push(err) }, { msgid: `m${n}`, topic: 't' });
    const held = async () => [...(await journals()).values()].flat().length;
    await until(async () => (await held()) === 3, { what: 'three SMS journalled' });
    await look.flushall();
    await until(async () => (await held()) === 3, { what: 'the journal written again at the next renewal', timeoutMs: 10_000 });
    // The first SMS is being sent (its answer never comes here); close fails the two waiting and waits for it: not awaited.
    const closing = queue.close('stopped');
    await until(() => outcomes.length === 2, { what: 'the waiting SMS failed' });
    should(outcomes.every((err) => /stopped/.test(String(err?.message)))).be.true();
    await until(async () => (await held()) === 1, { what: 'the failed SMS forgotten' });
    void closing;
  });
});
