/**
 * The cache's rule for keeping a reply, driven deterministically: a read's
 * reply is kept only if nothing that could change it happened between
 * sending it and its reply. The router (`run`) and the per-node trackers are
 * stand-ins here so that each race can be staged exactly; the same paths run
 * against real servers in test/integration/cache and test/chaos/cache-staleness.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { resolveOptions, type ResolvedOptions } from '../../../lib/options.js';
import { slotOf, type NodeHandle } from '../../../lib/index.js';
import { ClientCache, type SlotOwners, type Tracker } from '../../../lib/cache/client-cache.js';
import type { TrackerEvents } from '../../../lib/cache/tracking.js';

class FakeTracker implements Tracker {
  epoch = 0;
  on = false;
  constructor(readonly address: string, readonly events: TrackerEvents) {}
  async prepare(): Promise<void> {
    this.epoch++;
    this.on = true;
  }
  reset(): void {
    this.epoch++;
    this.on = false;
    this.events.onReset(this.address);
  }
  async close(): Promise<void> {
    this.on = false;
  }
}

interface Pending {
  readonly name: string;
  readonly args: readonly unknown[];
  resolve(v: unknown): void;
}

function owners(owner: (slot: number) => string): SlotOwners {
  return { shardOf: (slot) => ({ master: { address: owner(slot) } }) };
}

describe('client-side cache: keeping a reply (unit)', () => {
  const options: ResolvedOptions = resolveOptions({ rootNodes: ['127.0.0.1:1'], clientSideCache: { maxEntries: 100 } });
  let cache: ClientCache;
  let pending: Pending[];
  let map: SlotOwners;
  const trackers = new Map<string, FakeTracker>();

  beforeEach(async () => {
    pending = [];
    map = owners(() => 'A');
    trackers.clear();
    cache = new ClientCache(options, options.clientSideCache!, {
      current: () => map,
      run: (name, args) => new Promise((resolve) => pending.push({ name, args, resolve })),
      createTracker: (node, events) => {
        const t = new FakeTracker(node.address, events);
        trackers.set(node.address, t);
        return t;
      },
    });
    for (const address of ['A', 'B']) await cache.prepare({ address, host: '127.0.0.1', port: 1, call: async () => 'OK' } as unknown as NodeHandle, {} as Redis);
  });
  afterEach(() => cache.close());

  /** Sends GET `key`; returns the caller's promise and the router's pending request. */
  function read(key: string): { result: Promise<unknown>; req: Pending | undefined } {
    const before = pending.length;
    const result = cache.execute('get', [key], {}, undefined);
    return { result, req: pending.length > before ? pending[pending.length - 1] : undefined };
  }

  async function isCached(key: string): Promise<boolean> {
    const { req } = read(key);
    if (req === undefined) return true;
    req.resolve('whatever');
    return false;
  }

  it('keeps an undisturbed reply and serves the next read without the router', async () => {
    const { result, req } = read('k');
    req!.resolve('v1');
    assert.equal(await result, 'v1');
    const hit = read('k');
    assert.equal(hit.req, undefined, 'not sent');
    assert.equal(await hit.result, 'v1');
    assert.deepEqual({ ...cache.stats(), bytes: 0 }, { hits: 1, misses: 1, sharedReads: 0, invalidations: 0, evictions: 0, entries: 1, bytes: 0 });
  });

  it('an invalidation arriving before the reply (the race): the reply is returned but not kept', async () => {
    const { result, req } = read('k');
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('k')]);
    req!.resolve('old');
    assert.equal(await result, 'old');
    assert.equal(await isCached('k'), false);
  });

  it('an invalidation of ANOTHER key does not prevent keeping the reply', async () => {
    const { result, req } = read('k');
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('other')]);
    req!.resolve('v');
    await result;
    assert.equal(await isCached('k'), true);
  });

  it('an invalidation after the reply removes the entry', async () => {
    const { result, req } = read('k');
    req!.resolve('v');
    await result;
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('k')]);
    assert.equal(await isCached('k'), false);
    assert.equal(cache.stats().invalidations, 1);
  });

  it('an invalidation removes every cached call on the key, and only those', async () => {
    const calls: Array<[string, unknown[]]> = [['get', ['k']], ['strlen', ['k']], ['getrange', ['k', 0, 1]], ['get', ['other']]];
    for (const [name, args] of calls) {
      const r = cache.execute(name, args, {}, undefined);
      pending[pending.length - 1]!.resolve('v');
      await r;
    }
    assert.equal(cache.stats().entries, 4);
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('k')]);
    assert.equal(cache.stats().entries, 1);
    assert.equal(cache.stats().invalidations, 3);
    assert.equal(await isCached('other'), true);
    assert.equal(await isCached('k'), false);
  });

  it('GET entries stored under the key itself stay apart from other calls and keys, and invalidate like any', async () => {
    // '\x01…' keys take the general id form; '' is a key like any other; a Buffer key is another entry of the same Redis key.
    const calls: Array<[string, unknown[], string]> = [
      ['get', ['\x01get|s|s1:k'], 'a'], ['get', ['k'], 'b'], ['get', [''], 'c'], ['get', [Buffer.from('k')], 'd'], ['strlen', ['k'], 'e'],
    ];
    for (const [name, args, reply] of calls) {
      const r = cache.execute(name, args, {}, undefined);
      pending[pending.length - 1]!.resolve(reply);
      assert.equal(await r, reply);
    }
    assert.equal(cache.stats().entries, 5);
    for (const [name, args, reply] of calls) assert.equal(await cache.execute(name, args, {}, undefined), reply, `${name} ${String(args[0])}`);
    assert.equal(cache.stats().hits, 5);
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('k')]);
    assert.equal(cache.stats().entries, 2, 'GET k, GET <Buffer k> and STRLEN k went');
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('\x01get|s|s1:k'), Buffer.from('')]);
    assert.equal(cache.stats().entries, 0);
  });

  it('a cached string is served to every caller as the same settled value; arrays are copied per caller', async () => {
    const { result, req } = read('k');
    req!.resolve('v');
    await result;
    const [a, b] = await Promise.all([read('k').result, read('k').result]);
    assert.deepEqual([a, b], ['v', 'v']);
    assert.equal(cache.stats().hits, 2);
  });

  it('a flush (null invalidation) removes everything and spoils replies in flight', async () => {
    const a = read('a');
    a.req!.resolve('1');
    await a.result;
    const b = read('b');
    trackers.get('A')!.events.onInvalidate('A', null);
    b.req!.resolve('2');
    await b.result;
    assert.equal(await isCached('a'), false);
    assert.equal(await isCached('b'), false);
  });

  it('tracking lost (connection or subscriber) while in flight: not kept; the node\'s entries go', async () => {
    const first = read('k');
    first.req!.resolve('v');
    await first.result;
    const { result, req } = read('k2');
    trackers.get('A')!.reset();
    req!.resolve('v2');
    await result;
    assert.equal(cache.stats().entries, 0);
    // Tracking off: reads go to Redis and are not kept until tracking is on again.
    assert.equal(await isCached('k'), false);
    assert.equal(await isCached('k'), false);
  });

  it('its slot changing owner while in flight: not kept; only entries of moved slots go', async () => {
    const stay = read('stay');
    stay.req!.resolve('s');
    await stay.result;
    const moving = slotOf('k');
    const { result, req } = read('k');
    const prev = map;
    map = owners((s) => (s === moving ? 'B' : 'A'));
    cache.topologyChanged(prev, map, []);
    req!.resolve('v');
    await result;
    assert.equal(await isCached('k'), false);
    assert.equal(await isCached('stay'), slotOf('stay') !== moving);
  });

  it('a MOVED/ASK for its slot while in flight: not kept', async () => {
    const { result, req } = read('k');
    cache.redirected(slotOf('k'));
    req!.resolve('v');
    await result;
    assert.equal(await isCached('k'), false);
  });

  it('a write of this client to the key while a read is in flight: the read is not kept, the entry goes at once', async () => {
    const first = read('k');
    first.req!.resolve('old');
    await first.result;
    const w = cache.execute('set', ['k', 'new'], {}, undefined);
    assert.equal(cache.stats().entries, 0, 'dropped when the write is sent');
    const { result, req } = read('k');
    // The write is answered after the read was sent: the read may hold either value.
    pending.find((p) => p.name === 'set')!.resolve('OK');
    await w;
    req!.resolve('old');
    await result;
    assert.equal(await isCached('k'), false);
  });

  it('does not keep replies that may mean "no such key"', async () => {
    const { result, req } = read('missing');
    req!.resolve(null);
    assert.equal(await result, null);
    assert.equal(await isCached('missing'), false);
  });

  it('returns copies of cached arrays (a caller mutating its result cannot corrupt the cache)', async () => {
    const r = cache.execute('lrange', ['l', 0, -1], {}, undefined);
    pending[0]!.resolve(['a', 'b']);
    (await r as string[]).push('mutated');
    assert.deepEqual(await cache.execute('lrange', ['l', 0, -1], {}, undefined), ['a', 'b']);
  });

  it('readers of a key whose read is on its way share it: one request, each gets its own copy', async () => {
    const first = cache.execute('lrange', ['l', 0, -1], {}, undefined);
    const second = cache.execute('lrange', ['l', 0, -1], {}, undefined);
    assert.equal(pending.length, 1, 'the second reader joined the first request');
    pending[0]!.resolve(['a']);
    const [a, b] = (await Promise.all([first, second])) as string[][];
    assert.deepEqual(a, ['a']);
    assert.deepEqual(b, ['a']);
    assert.notEqual(a, b, 'not the same array');
    assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses, sharedReads: cache.stats().sharedReads }, { hits: 0, misses: 2, sharedReads: 1 });
  });

  it('a reader after an invalidation of the key (or a write of this client) does not join the read sent before it', async () => {
    const first = read('k');
    trackers.get('A')!.events.onInvalidate('A', [Buffer.from('k')]);
    const second = read('k');
    assert.ok(second.req !== undefined, 'sent its own read');
    const w = cache.execute('set', ['k', 'new'], {}, undefined);
    const third = read('k');
    assert.ok(third.req !== undefined && third.req !== second.req, 'a write of this client spoils the read on its way too');
    for (const p of [...pending]) p.resolve(p.name === 'set' ? 'OK' : 'v');
    await Promise.all([first.result, second.result, third.result, w]);
  });

  it('a reader with its own timeout or signal sends its own read, and is never joined', async () => {
    const plain = read('k');
    const timed = cache.execute('get', ['k'], { timeoutMs: 5 }, undefined);
    assert.equal(pending.length, 2, 'the timed read sent its own request');
    const signalled = cache.execute('get', ['j'], { signal: new AbortController().signal }, undefined);
    const after = read('j');
    assert.ok(after.req !== undefined, 'a read with a signal is not shared');
    for (const p of [...pending]) p.resolve('v');
    await Promise.all([plain.result, timed, signalled, after.result]);
  });

  it('a shared read that fails fails its joiners too, and the next read is sent afresh', async () => {
    const rejecting: Array<(e: Error) => void> = [];
    const c2 = new ClientCache(options, options.clientSideCache!, {
      current: () => map,
      run: () => new Promise((_, reject) => rejecting.push(reject)),
      createTracker: (node, events) => new FakeTracker(node.address, events),
    });
    await c2.prepare({ address: 'A', host: '127.0.0.1', port: 1, call: async () => 'OK' } as unknown as NodeHandle, {} as Redis);
    try {
      const a = c2.execute('get', ['k'], {}, undefined);
      const b = c2.execute('get', ['k'], {}, undefined);
      assert.equal(rejecting.length, 1);
      rejecting[0]!(new Error('lost'));
      await assert.rejects(a, /lost/);
      await assert.rejects(b, /lost/);
      void c2.execute('get', ['k'], {}, undefined).catch(() => undefined);
      assert.equal(rejecting.length, 2, 'sent afresh');
      rejecting[1]!(new Error('x'));
    } finally {
      await c2.close();
    }
  });
});
