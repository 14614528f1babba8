/** Bad input to SessionStore: a clear InvalidArgumentError naming what was wrong, and nothing written to Redis. */
import assert from 'node:assert/strict';
import { ClusterClient, InvalidArgumentError, SessionStore } from '../../../lib/index.js';
import { connectedClient, keysUnder, uniquePrefix } from '../../helpers/sessions.js';

function rejectsWith(argument: RegExp, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_SLOTWISE_INVALID_ARGUMENT');
    assert.match(e.argument, argument);
    assert.match(e.message, message);
    return true;
  };
}

describe('SessionStore bad input (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  let store: SessionStore;
  let prefix: string;
  let live: string;

  before(async () => {
    client = await connectedClient();
    prefix = uniquePrefix('bad');
    store = new SessionStore(client, { prefix });
    live = await store.create({ keep: 'me' }, { userId: 'u' });
  });
  after(async () => {
    await store?.clear();
    await client?.quit();
  });
  afterEach(async () => {
    // Only the one session created in before() (its hash and its user index) may exist.
    assert.deepEqual((await keysUnder(client, prefix)).sort(), [store.keys.session(live), store.keys.userIndex('u')].sort());
    assert.deepEqual(await store.get(live), { keep: 'me' });
  });

  it('rejects session data JSON cannot store faithfully, naming the attribute', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await assert.rejects(store.create({ fn: () => 1 }), rejectsWith(/attribute "fn"/, /function/));
    await assert.rejects(store.create({ big: 10n }), rejectsWith(/attribute "big"/, /BigInt/));
    await assert.rejects(store.create({ nested: { n: NaN } }), rejectsWith(/attribute "nested"/, /value\.n is NaN/));
    await assert.rejects(store.create({ loop: cyclic }), rejectsWith(/attribute "loop"/, /circular/));
    await assert.rejects(store.create({ m: new Map([[1, 2]]) }), rejectsWith(/attribute "m"/, /Map/));
    await assert.rejects(store.create({ s: Symbol('x') }), rejectsWith(/attribute "s"/, /symbol/));
    await assert.rejects(store.set(live, { ok: 1, bad: () => 2 }), rejectsWith(/attribute "bad"/, /function/));
    await assert.rejects(store.patch(live, { bad: 5n }), rejectsWith(/attribute "bad"/, /BigInt/));
    await assert.rejects(store.create([1, 2] as never), rejectsWith(/session data/, /object of attributes/));
    await assert.rejects(store.create({ ['__proto__']: 1 } as never), rejectsWith(/attribute name/, /__proto__/));
  });

  it('rejects ids with braces, spaces, or of huge length, and empty ids', async () => {
    await assert.rejects(store.create({}, { id: 'abc{def}' }), rejectsWith(/session id/, /"\{" or "\}"/));
    await assert.rejects(store.get('x'.repeat(100_000)), rejectsWith(/session id/, /at most 256 characters, got 100000/));
    await assert.rejects(store.set('has space', {}), rejectsWith(/session id/, /printable ASCII/));
    await assert.rejects(store.destroy(''), rejectsWith(/session id/, /non-empty string/));
    await assert.rejects(store.touch(42 as never), rejectsWith(/session id/, /non-empty string/));
    await assert.rejects(store.regenerate(live, { newId: '{x}' }), rejectsWith(/newId/, /hash slot/));
  });

  it('rejects negative, zero and non-numeric TTLs', async () => {
    await assert.rejects(store.create({}, { ttlMs: -1000 }), rejectsWith(/ttlMs/, /> 0/));
    await assert.rejects(store.create({}, { ttlMs: 0 }), rejectsWith(/ttlMs/, /> 0/));
    await assert.rejects(store.create({}, { ttlMs: Number.NaN }), rejectsWith(/ttlMs/, /NaN/));
    await assert.rejects(store.create({}, { absoluteTtlMs: -5 }), rejectsWith(/absoluteTtlMs/, /> 0/));
    await assert.rejects(store.touch(live, { ttlMs: -1 }), rejectsWith(/ttlMs/, /-1/));
    await assert.rejects(store.patch(live, { a: 1 }, { ttlMs: '60' as never }), rejectsWith(/ttlMs/, /"60"/));
  });

  it('rejects bad user ids and versions', async () => {
    await assert.rejects(store.create({}, { userId: '' }), rejectsWith(/userId/, /non-empty/));
    await assert.rejects(store.patch(live, {}, { userId: 'u'.repeat(600) }), rejectsWith(/userId/, /at most 512/));
    await assert.rejects(store.listByUser(7 as never), rejectsWith(/userId/, /non-empty string/));
    await assert.rejects(store.set(live, {}, { expectedVersion: 0 }), rejectsWith(/expectedVersion/, /positive integer/));
  });

  it('rejects bad options at construction', () => {
    assert.throws(() => new SessionStore(client, { prefix: 'a{b}:' }), rejectsWith(/prefix/, /"\{" or "\}"/));
    assert.throws(() => new SessionStore(client, { prefix: '' }), rejectsWith(/prefix/, /1 to 200/));
    assert.throws(() => new SessionStore(client, { ttlMs: -1 }), rejectsWith(/ttlMs/, /> 0/));
    assert.throws(() => new SessionStore(client, { idBytes: 8 }), rejectsWith(/idBytes/, /from 16/));
    assert.throws(() => new SessionStore(client, { tombstoneTtlMs: 0 }), rejectsWith(/tombstoneTtlMs/, /from 1/));
    assert.throws(() => new SessionStore(client, { serializer: {} as never }), rejectsWith(/serializer/, /serialize\(value\)/));
    assert.throws(() => new SessionStore(client, { nope: 1 } as never), rejectsWith(/nope/, /unknown option/));
    assert.throws(() => new SessionStore({} as never), rejectsWith(/client/, /ClusterClient/));
  });
});
