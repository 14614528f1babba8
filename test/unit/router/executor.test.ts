import assert from 'node:assert/strict';
import { CircuitOpenError, ConnectionError, SlotMigrationStuckError, TimeoutError } from '../../../lib/errors.js';
import { A, B, reply, scriptedCluster, type ScriptedCluster } from '../../helpers/scripted-nodes.js';

/**
 * The executor's retry loop through the Router seam (ClientCore.execute),
 * on nodes made by an injected factory: no sockets, every cluster answer
 * scripted. Key 'a' is in slot 15495 (B's), key 'b' in slot 3300 (A's).
 */
describe('executor through the Router (unit, scripted nodes)', () => {
  let c: ScriptedCluster;
  afterEach(async () => c?.close());

  const writesTo = (address: string) => c.seen.filter((s) => s.address === address);

  it('routes by slot to the master that owns it', async () => {
    c = await scriptedCluster();
    c.script((s) => `${s.address}:${s.command.join(' ')}`);
    assert.equal(await c.core.execute('get', ['a']), `${B}:get a`);
    assert.equal(await c.core.execute('GET', ['b']), `${A}:get b`);
  });

  it('MOVED: retries at the target, patches that slot in the map and emits redirect', async () => {
    c = await scriptedCluster();
    c.script((s) => (s.address === B ? reply(`MOVED 15495 ${A}`) : 'moved-value'));
    assert.equal(await c.core.execute('get', ['a']), 'moved-value');
    assert.deepEqual(c.seen.map((s) => s.address), [B, A]);
    assert.equal(c.core.current!.shardOf(15495)!.master.address, A, 'slot 15495 now maps to A');
    const redirect = c.events.find((e) => e.name === 'redirect');
    assert.deepEqual(redirect?.args[0], { kind: 'moved', slot: 15495, from: B, to: A, command: 'get' });
    // The next command for that slot goes straight to the new owner.
    await c.core.execute('get', ['a']);
    assert.equal(c.seen.at(-1)!.address, A);
  });

  it('ASK: ASKING + command at the target, the map untouched', async () => {
    c = await scriptedCluster();
    c.script((s) => (s.address === B && !s.asking ? reply(`ASK 15495 ${A}`) : 'asked'));
    assert.equal(await c.core.execute('get', ['a']), 'asked');
    assert.deepEqual(c.seen.map((s) => [s.address, s.asking]), [[B, false], [A, true]]);
    assert.equal(c.core.current!.shardOf(15495)!.master.address, B, 'ASK never patches the map');
  });

  it('a redirect loop (A→B→A) is a stuck migration: it waits instead of spinning, SlotMigrationStuckError at the deadline', async () => {
    // Since the stuck-migration work (issue 21) a cycle is not "too many redirects": the
    // command backs off and retries until its deadline; unit-tested in migration-watch.test.ts.
    c = await scriptedCluster({ maxRedirections: 3, commandTimeoutMs: 400, retryBaseDelayMs: 10, retryMaxDelayMs: 100 });
    c.script((s) => reply(`MOVED 15495 ${s.address === A ? B : A}`));
    await assert.rejects(c.core.execute('get', ['a']), (err: unknown) => err instanceof SlotMigrationStuckError && err.slot === 15495);
    assert.ok(c.seen.length < 30, `bounded attempts while stuck, saw ${c.seen.length}`);
  });

  for (const state of ['TRYAGAIN Multiple keys request during rehashing of slot', 'CLUSTERDOWN The cluster is down', 'LOADING Redis is loading the dataset in memory']) {
    it(`${state.split(' ')[0]}: waits and retries at the slot's owner, never elsewhere`, async () => {
      c = await scriptedCluster();
      c.script((_s, nth) => (nth <= 2 ? reply(state) : 'after-wait'));
      assert.equal(await c.core.execute('get', ['a']), 'after-wait');
      assert.equal(c.seen.length, 3);
      assert.deepEqual(writesTo(A), [], 'no attempt at a node that does not own the slot');
    });
  }

  it('connection lost before the write: retried, even for a non-idempotent write', async () => {
    c = await scriptedCluster();
    c.script((_s, nth) => (nth === 1 ? new ConnectionError(`Cannot connect to ${B}`, { maybeSent: false }) : 7));
    assert.equal(await c.core.execute('incr', ['a']), 7);
    assert.equal(c.seen.length, 2);
  });

  it('connection lost after the write: a read is retried, a non-idempotent write is not', async () => {
    c = await scriptedCluster();
    const lost = () => new Error('Connection is closed.');
    c.script((s, nth) => (nth === 1 || s.command[0] === 'incr' ? lost() : 'read-again'));
    assert.equal(await c.core.execute('get', ['a']), 'read-again');
    const before = c.seen.length;
    await assert.rejects(c.core.execute('incr', ['a']), (err: unknown) => err instanceof ConnectionError && err.maybeSent);
    assert.equal(c.seen.length, before + 1, 'INCR written once, never re-sent');
  });

  it('retryMaybeSentWrites: a write lost after it was sent is retried', async () => {
    c = await scriptedCluster({ retryMaybeSentWrites: true });
    c.script((_s, nth) => (nth === 1 ? new Error('Connection is closed.') : 3));
    assert.equal(await c.core.execute('incr', ['a']), 3);
  });

  it('open breaker: waits for the node (failFast false) or fails at once (failFast true)', async () => {
    c = await scriptedCluster();
    c.script((_s, nth) => (nth <= 2 ? new CircuitOpenError(B) : 'closed-again'));
    assert.equal(await c.core.execute('get', ['a']), 'closed-again');
    await c.close();

    c = await scriptedCluster({ circuitBreaker: { enabled: false, failFast: true } });
    c.script(() => new CircuitOpenError(B));
    await assert.rejects(c.core.execute('get', ['a']), CircuitOpenError);
    assert.equal(c.seen.length, 1);
  });

  it('deadline: a command that never gets an answer fails with TimeoutError carrying the last error', async () => {
    c = await scriptedCluster({ commandTimeoutMs: 200 });
    c.script((_s, nth) => (nth === 1 ? reply('TRYAGAIN slot moving') : new Promise(() => undefined)));
    const started = Date.now();
    await assert.rejects(c.core.execute('get', ['a']), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, String(err));
      assert.match(err.message, /within 200 ms .*TRYAGAIN/);
      return true;
    });
    assert.ok(Date.now() - started >= 190, 'not before the deadline');
  });

  it('a per-call timeoutMs replaces commandTimeoutMs for that command', async () => {
    c = await scriptedCluster({ commandTimeoutMs: 60_000 });
    c.script(() => new Promise(() => undefined));
    await assert.rejects(c.core.execute('get', ['a'], { timeoutMs: 50 }), (err: unknown) => err instanceof TimeoutError && err.timeoutMs === 50);
  });

  it('abort: the promise rejects with the signal\'s reason at once, mid-wait or before sending', async () => {
    c = await scriptedCluster();
    c.script(() => reply('CLUSTERDOWN The cluster is down'));
    const ac = new AbortController();
    const pending = c.core.execute('get', ['a'], { signal: ac.signal });
    const why = new Error('caller gave up');
    setImmediate(() => ac.abort(why));
    await assert.rejects(pending, (err: unknown) => err === why);
    const count = c.seen.length;
    await assert.rejects(c.core.execute('get', ['a'], { signal: AbortSignal.abort(why) }), (err: unknown) => err === why);
    assert.equal(c.seen.length, count, 'an aborted signal sends nothing');
  });

  it('a pinned request (fan-out part, scan step) hands a MOVED back instead of following it', async () => {
    c = await scriptedCluster();
    c.script(() => reply(`MOVED 15495 ${A}`));
    const node = c.core.node({ address: B, host: '127.0.0.1', port: 7002 });
    await assert.rejects(c.core.execute('get', ['a'], {}, { node }), /MOVED 15495/);
    assert.deepEqual(c.seen.map((s) => s.address), [B]);
  });

  it('splits a cross-slot MGET per slot and merges in the caller\'s order', async () => {
    c = await scriptedCluster();
    const value = (k: string, address: string) => `${k}@${address}`;
    c.script((s) => (s.command[0] === 'mget' ? s.command.slice(1).map((k) => value(k, s.address)) : value(s.command[1]!, s.address)));
    assert.deepEqual(await c.core.execute('mget', ['a', 'b', '{a}x']), [value('a', B), value('b', A), value('{a}x', B)]);
    assert.deepEqual(c.seen.map((s) => s.command).sort(), [['get', 'b'], ['mget', 'a', '{a}x']], 'one part per slot');
  });
});
