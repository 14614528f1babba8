/**
 * Fuzz (fast-check) of everything above the command surface, on a private
 * real cluster: every helper's constructor, options and methods (Mutex,
 * ReadWriteLock, Semaphore, CountDownLatch, Redlock, WorkQueue and its
 * worker, pub/sub and Topic, SessionStore and the express-session store),
 * scanIterator() options, ClusterClient options and the
 * RedisClusterContainer builder (builder methods only: nothing is started).
 * Each generated case resolves or fails with a SlotwiseError / Redis reply
 * error, never a raw TypeError; cases invalid by construction fail with
 * InvalidArgumentError and write nothing; well-formed commands issued
 * alongside succeed; quit() resolves within 1 s; no uncaught exception or
 * unhandled rejection.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ClusterClient,
  CountDownLatch,
  DEFAULTS,
  InvalidArgumentError,
  Mutex,
  ReadWriteLock,
  Redlock,
  Semaphore,
  SessionStore,
  Topic,
  WorkQueue,
} from '../../lib/index.js';
import { SlotwiseSessionStore } from '../../lib/session/express-session.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { anyValue, assertTypedError, badArg, optionsOf, validArg } from './arbitraries.js';
import { fuzzCases } from './count.js';
import { fuzzRun, OK_KEYS, ProcessWatch } from './harness.js';

const KINDS = ['mutex', 'semaphore', 'rwlock', 'latch', 'redlock', 'queue', 'topic', 'pubsub', 'session', 'express', 'scan', 'options', 'builder'] as const;
type Kind = (typeof KINDS)[number];

interface HelperCase {
  readonly kind: Kind;
  readonly name: unknown;
  readonly opts: unknown;
  readonly method: number;
  readonly a: unknown;
  readonly b: unknown;
}

const LEASE_KEYS = ['leaseMs', 'autoExtend', 'renewRatio', 'driftFactor', 'waitMs', 'retryDelayMs', 'keyPrefix', 'replicaAck', 'replicaAckTimeoutMs'];
const OPTION_KEYS: Record<Kind, readonly string[]> = {
  mutex: [...LEASE_KEYS, 'fair', 'queueTtlMs'],
  semaphore: [...LEASE_KEYS, 'permits'],
  rwlock: [...LEASE_KEYS, 'writerIntentTtlMs'],
  latch: ['keyPrefix', 'retryDelayMs', 'waitMs'],
  redlock: [...LEASE_KEYS, 'instanceTimeoutMs'],
  queue: ['partitions', 'prefix', 'group', 'maxDeliveries', 'visibilityTimeoutMs', 'backoffBaseMs', 'backoffMaxMs', 'replicas', 'replicaTimeoutMs', 'completedRetentionMs', 'addTimeoutMs', 'serializer'],
  topic: ['serializer', 'prefix'],
  pubsub: [],
  session: ['prefix', 'ttlMs', 'absoluteTtlMs', 'tombstoneTtlMs', 'indexGraceMs', 'serializer', 'idBytes', 'scanCount', 'bulkConcurrency', 'sweepIntervalMs'],
  express: ['ttlMs', 'disableTouch', 'userId', 'serializer', 'prefix', 'absoluteTtlMs'],
  scan: ['match', 'count', 'type', 'stallTimeoutMs'],
  options: [...Object.keys(DEFAULTS)],
  builder: [],
};
const PER_CALL_KEYS = ['waitMs', 'signal', 'ttlMs', 'newId', 'expectedVersion', 'delayMs', 'jobId', 'partitionKey', 'concurrency', 'blockMs', 'limit', 'timeoutMs', 'userId'];
const BUILDER = ['withMasters', 'withReplicasPerMaster', 'withNodeTimeoutMs', 'withPassword', 'withUser', 'withAppendOnly', 'withPortRange', 'withBasePort', 'withRedisServerBin', 'withStartupTimeoutMs', 'withRuntime', 'withImage'] as const;

/** Generated waits are kept short: a case must not legitimately wait for seconds. */
const shortNumber = fc.oneof(fc.constantFrom(0, 1, 20, 50, 100, -1, 1.5), fc.integer({ min: 0, max: 200 }));
const value = fc.oneof({ weight: 3, arbitrary: anyValue }, { weight: 2, arbitrary: shortNumber }, { weight: 1, arbitrary: fc.constant('fn') });
const name = fc.oneof({ weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map((s) => `fz${s}`) }, { weight: 1, arbitrary: anyValue });

const anyCase: fc.Arbitrary<HelperCase> = fc.constantFrom(...KINDS).chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    name,
    opts: optionsOf(OPTION_KEYS[kind].length > 0 ? OPTION_KEYS[kind] : ['x'], value),
    method: fc.nat(),
    a: fc.oneof(value, optionsOf(PER_CALL_KEYS, value), fc.array(validArg, { maxLength: 3 })),
    b: fc.oneof(value, optionsOf(PER_CALL_KEYS, value)),
  }),
);

/** Invalid by construction: a helper name, session id, channel or payload no one can accept. */
const strictlyBad = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom(Number.NaN, Infinity),
  fc.string().map((s) => Symbol(s)),
  fc.constant(0).map(() => ({ toString(): string { throw new Error('boom'); } })),
  fc.constant(0).map(() => Object.create(Buffer.prototype) as unknown),
  fc.constant(0).map(() => new Date(0)),
  fc.constant(0).map(() => new Map([['a', 1]])),
);
const invalidCase: fc.Arbitrary<HelperCase> = fc.record({
  kind: fc.constantFrom<Kind>('mutex', 'semaphore', 'rwlock', 'latch', 'redlock', 'queue', 'topic', 'pubsub', 'session', 'express'),
  name: strictlyBad,
  opts: fc.constant(undefined),
  method: fc.nat(),
  a: strictlyBad,
  b: fc.constant(undefined),
});

const fn = (v: unknown, f: (...a: never[]) => unknown) => (v === 'fn' ? f : v);
type AnyFn = (...a: unknown[]) => unknown;
let uid = 0;
/** A valid generated name gets a unique suffix, so cases never wait on each other's locks. */
const unique = (n: unknown) => (typeof n === 'string' ? `${n}:${++uid}` : n);

/** Releases whatever a case acquired (handles, subscriptions). */
async function cleanup(v: unknown): Promise<void> {
  const o = v as { release?: AnyFn; unsubscribe?: AnyFn } | null;
  if (o && typeof o.release === 'function') await (o.release() as Promise<unknown>);
  else if (o && typeof o.unsubscribe === 'function') await (o.unsubscribe() as Promise<unknown>);
}

/** Runs one generated case; the error it failed with, or undefined when it succeeded. */
async function runCase(client: ClusterClient, c: HelperCase, invalid: boolean): Promise<unknown> {
  const n = unique(c.name);
  const o = c.opts as never;
  const a = c.a as never;
  const b = c.b as never;
  const pick = <T>(list: readonly T[]) => list[c.method % list.length]!;
  let closer: (() => Promise<unknown>) | undefined;
  try {
    switch (c.kind) {
      case 'mutex':
      case 'semaphore':
      case 'rwlock': {
        const lock = c.kind === 'mutex' ? new Mutex(client, n as string, o) : c.kind === 'semaphore' ? new Semaphore(client, n as string, o ?? ({ permits: 2 } as never)) : new ReadWriteLock(client, n as string, o).writeLock;
        const m = pick(['acquire', 'tryAcquire', 'using', 'release', 'extend', ...(c.kind === 'mutex' ? ['inspect'] : c.kind === 'semaphore' ? ['used'] : [])]);
        if (m === 'using') await lock.using(fn(a, async () => 1) as never, b);
        else await cleanup(await (lock as unknown as Record<string, AnyFn>)[m]!.call(lock, a, b));
        break;
      }
      case 'latch': {
        const latch = new CountDownLatch(client, n as string, o);
        const m = pick(['trySetCount', 'countDown', 'getCount', 'wait']);
        await (latch as unknown as Record<string, AnyFn>)[m]!.call(latch, a, b);
        break;
      }
      case 'redlock': {
        const clients = pick([[client], a, [client, a]]);
        const lock = new Redlock(clients as never, n as string, o);
        const m = pick(['tryAcquire', 'acquire', 'using', 'releaseAll', 'extendAll']);
        if (m === 'using') await lock.using(fn(a, async () => 1) as never, b);
        else await cleanup(await (lock as unknown as Record<string, AnyFn>)[m]!.call(lock, a, b));
        break;
      }
      case 'queue': {
        const q = new WorkQueue(client, n as string, o);
        closer = () => q.close({ timeoutMs: 200 });
        const m = pick(['add', 'addBulk', 'stats', 'deadLetters', 'retryDeadLetters', 'process']);
        if (m === 'process') await q.process(fn(a, async () => undefined) as never, b);
        else await (q as unknown as Record<string, AnyFn>)[m]!.call(q, a, b);
        break;
      }
      case 'topic': {
        const t = new Topic(client, n as string, o);
        if (c.method % 2 === 0) await t.publish(a);
        else await cleanup(await t.subscribe(fn(invalid ? () => undefined : a, () => undefined) as never));
        break;
      }
      case 'pubsub': {
        const channels = invalid ? a : pick([n, [n], a]);
        const handler = fn(invalid ? 'fn' : b, () => undefined);
        const m = pick(['subscribe', 'psubscribe', 'ssubscribe']);
        await cleanup(await (client as unknown as Record<string, AnyFn>)[m]!.call(client, channels, handler));
        break;
      }
      case 'session': {
        const s = new SessionStore(client, o);
        closer = () => s.close();
        const id = invalid ? a : pick([n, a, s.generateId()]);
        const m = pick([...(invalid ? [] : ['create']), 'get', 'getEntry', 'set', 'patch', 'upsert', 'touch', 'destroy', 'regenerate', 'listByUser', 'destroyByUser']);
        if (m === 'create') await s.create(a, b);
        else await (s as unknown as Record<string, AnyFn>)[m]!.call(s, id, invalid ? { x: 1 } : b, b);
        break;
      }
      case 'express': {
        const store = new SlotwiseSessionStore({ client, ...(typeof o === 'object' && o !== null ? (o as object) : {}) });
        closer = () => store.sessions.close();
        const sid = invalid ? a : pick([n, a]);
        const m = pick(['get', 'set', 'touch', 'destroy', ...(invalid ? [] : ['length'])]);
        const session = invalid ? { cookie: { maxAge: 1000 } } : pick([{ cookie: { maxAge: 1000 }, user: b }, b]);
        await (store as unknown as Record<string, AnyFn>)[m]!.call(store, sid, session);
        break;
      }
      case 'scan': {
        let seen = 0;
        for await (const _ of client.scanIterator(o)) if (++seen >= 3) break;
        break;
      }
      case 'options': {
        const rootNodes = pick([client.options.rootNodes.map((r) => `${r.host}:${r.port}`), a, [a]]);
        const extra = typeof o === 'object' && o !== null ? (o as object) : {};
        const created = new ClusterClient({ rootNodes, ...extra } as never);
        await created.disconnect();
        break;
      }
      case 'builder': {
        const builder = new RedisClusterContainer() as unknown as Record<string, AnyFn>;
        assert.equal(builder[pick(BUILDER)]!.call(builder, a, b), builder, 'a builder method returns the builder');
        break;
      }
    }
    return undefined;
  } catch (err) {
    return err;
  } finally {
    if (closer) await closer().catch((e: unknown) => assertTypedError(e, `${c.kind} close`));
  }
}

function label(c: HelperCase): string {
  const s = (v: unknown) => {
    try {
      return typeof v === 'symbol' ? 'Symbol()' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  };
  return `${c.kind}#${c.method} name=${s(c.name)} opts=${s(c.opts)} a=${s(c.a)} b=${s(c.b)}`;
}

describe('fuzz: helpers, options, scan and the engine builder (private cluster)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  const watch = new ProcessWatch();
  let run = 0;
  const CASES_PER_RUN = 20;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    for (let i = 0; i < OK_KEYS; i++) await c.set(`{ok}:${i}`, 'init');
    await c.quit();
    watch.start();
  });
  after(async () => {
    watch.stop();
    await cluster?.stop();
  });

  it('invalid names, ids, channels and payloads: InvalidArgumentError each, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(invalidCase, { minLength: CASES_PER_RUN, maxLength: CASES_PER_RUN }), async (cases) => {
        await fuzzRun(cluster.getRootNodes(), watch, ++run, true, async (client) => {
          const errors = await Promise.all(cases.map((c) => runCase(client, c, true)));
          errors.forEach((e, i) => {
            assert.ok(e !== undefined, `${label(cases[i]!)}: expected a rejection, it succeeded`);
            assertTypedError(e, label(cases[i]!));
            assert.ok(e instanceof InvalidArgumentError, `${label(cases[i]!)}: expected InvalidArgumentError, got ${(e as Error).name}: ${(e as Error).message}`);
          });
        });
        fuzzCases.add('helpers: invalid by construction', cases.length);
      }),
      { numRuns: 60 },
    );
  });

  it('any generated case: succeeds or fails with a typed error — never a raw TypeError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyCase, { minLength: CASES_PER_RUN, maxLength: CASES_PER_RUN }), async (cases) => {
        await fuzzRun(cluster.getRootNodes(), watch, ++run, false, async (client) => {
          const errors = await Promise.all(cases.map((c) => runCase(client, c, false)));
          errors.forEach((e, i) => {
            if (e !== undefined) assertTypedError(e, label(cases[i]!));
          });
        });
        fuzzCases.add('helpers: any case', cases.length);
      }),
      { numRuns: 100 },
    );
  });

  it(`ran at least 10,000 generated cases across the fuzz suites`, function () {
    // Only meaningful when the command suite ran in this process too (it runs first).
    if (!fuzzCases.report().includes('commands')) this.skip();
    console.log(`      fuzz cases: ${fuzzCases.total} (${fuzzCases.report()})`);
    assert.ok(fuzzCases.total >= 10_000, `only ${fuzzCases.total} cases`);
  });
});
