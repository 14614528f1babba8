/**
 * Session store benchmark: SlotwiseSessionStore vs connect-redis, through the
 * express-session Store interface (what express-session itself calls), in ONE
 * run on ONE fresh 3×1 cluster:
 * - get: load an existing session;
 * - set: save a whole session object (a first save, or `resave: true`);
 * - touch: slide the expiry of an unmodified session;
 * - request: get + change one attribute + set, as a modifying request does
 *   (slotwise writes only the changed attribute).
 * connect-redis 9 speaks only node-redis (`redis` ≥ 5, its declared peer): with
 * an ioredis client its set() sends `SET key value [object Object]` and fails.
 * connect-redis 7.1.1 is the last line that accepts ioredis, so it is the
 * ioredis Cluster entry.
 */
import os from 'node:os';
import { Cookie, type SessionData, type Store } from 'express-session';
import { Cluster, Redis } from 'ioredis';
import ConnectRedis7 from 'connect-redis-7';
import { RedisStore as ConnectRedis9 } from 'connect-redis';
import { createCluster } from 'redis';
import { ClusterClient } from '../../lib/index.js';
import { SlotwiseSessionStore } from '../../lib/session/express-session.js';
import type { NodeAddress } from '../../testcontainers/index.js';
import { closedLoop, meanOfRuns, withBenchCluster, writeReport, type LoopResult, type Measurement } from '../harness.js';

export type Kind = 'slotwise' | 'connect-redis-9' | 'connect-redis-7';
const ALL_KINDS: Kind[] = ['slotwise', 'connect-redis-9', 'connect-redis-7'];
const LABELS: Record<Kind, string> = {
  slotwise: 'slotwise SlotwiseSessionStore',
  'connect-redis-9': 'connect-redis 9 + node-redis cluster',
  'connect-redis-7': 'connect-redis 7.1 + ioredis Cluster (autopipelining)',
};
const ALL_OPS = ['get', 'set', 'touch', 'request'] as const;
type Op = (typeof ALL_OPS)[number];
/** `BENCH_OPS=get,set` / `BENCH_KINDS=slotwise,connect-redis-7` narrow a run (for profiling; the report wants all). */
const OPS = pick(ALL_OPS, process.env.BENCH_OPS);
const KINDS = pick(ALL_KINDS, process.env.BENCH_KINDS);

function pick<T extends string>(all: readonly T[], list: string | undefined): T[] {
  if (!list) return [...all];
  const wanted = list.split(',').map((s) => s.trim());
  const bad = wanted.filter((w) => !all.includes(w as T));
  if (bad.length > 0) throw new Error(`unknown ${bad.join(', ')}; expected some of ${all.join(', ')}`);
  return all.filter((a) => wanted.includes(a));
}

/**
 * Server CPU (user + sys, every node, replicas included) and INFO commandstats
 * of the masters: what one operation costs the servers, which the shared
 * 2-core box's load does not skew the way it skews ops/s.
 */
export class ServerStats {
  readonly #nodes: Redis[];
  constructor(roots: readonly NodeAddress[]) {
    this.#nodes = roots.map((r) => new Redis({ host: r.host, port: r.port, lazyConnect: false, maxRetriesPerRequest: 1 }));
  }
  async reset(): Promise<number> {
    await Promise.all(this.#nodes.map((n) => n.config('RESETSTAT')));
    return this.#cpu();
  }
  /** µs of server CPU per op, and the masters' commands per op with their usec_per_call. */
  async since(cpu0: number, ops: number): Promise<{ cpuUsPerOp: number; commands: string }> {
    const cpu = (await this.#cpu()) - cpu0;
    const totals = new Map<string, { calls: number; usec: number }>();
    for (const n of this.#nodes) {
      if (!/role:master/.test(await n.info('replication'))) continue;
      for (const m of (await n.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
        if (m[1] === 'config' || m[1] === 'info' || m[1] === 'cluster') continue;
        const t = totals.get(m[1]!) ?? { calls: 0, usec: 0 };
        t.calls += Number(m[2]);
        t.usec += Number(m[3]);
        totals.set(m[1]!, t);
      }
    }
    const commands = [...totals].map(([c, t]) => `${c} ${(t.calls / ops).toFixed(2)}/op ${(t.usec / t.calls).toFixed(1)}µs`).join(', ');
    return { cpuUsPerOp: Math.round((cpu * 1e6) / ops) / 1, commands };
  }
  async #cpu(): Promise<number> {
    let s = 0;
    for (const n of this.#nodes) {
      const info = await n.info('cpu');
      s += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
    }
    return s;
  }
  async close(): Promise<void> {
    await Promise.all(this.#nodes.map((n) => n.quit()));
  }
}
export const SESSIONS = 10_000;
const CONCURRENCY = 64;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);

/** A promise-style view of an express-session Store. */
export interface Bench {
  readonly store: Store;
  get(sid: string): Promise<SessionData | null>;
  set(sid: string, s: SessionData): Promise<void>;
  touch(sid: string, s: SessionData): Promise<void>;
  close(): Promise<void>;
}

function promisify(store: Store, close: () => Promise<void>): Bench {
  const wrap = <T>(f: (cb: (err: unknown, v?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(err as Error) : resolve(v as T))));
  return {
    store,
    get: (sid) => wrap<SessionData | null>((cb) => store.get(sid, cb)),
    set: (sid, s) => wrap<void>((cb) => store.set(sid, s, cb)),
    touch: (sid, s) => wrap<void>((cb) => store.touch!(sid, s, cb as () => void)),
    close,
  };
}

export async function open(kind: Kind, roots: readonly NodeAddress[], prefix: string): Promise<Bench> {
  switch (kind) {
    case 'slotwise': {
      const client = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 10_000 });
      await client.connect();
      return promisify(new SlotwiseSessionStore({ client, prefix }), () => client.quit());
    }
    case 'connect-redis-9': {
      const client = createCluster({ rootNodes: roots.map((r) => ({ url: `redis://${r.host}:${r.port}` })) });
      client.on('error', () => undefined);
      await client.connect();
      return promisify(new ConnectRedis9({ client, prefix }), async () => void (await client.close().catch(() => client.destroy())));
    }
    case 'connect-redis-7': {
      const client = new Cluster(roots.map((r) => ({ host: r.host, port: r.port })), { enableAutoPipelining: true, lazyConnect: true });
      client.on('error', () => undefined);
      await client.connect();
      return promisify(new ConnectRedis7({ client, prefix }), async () => void (await client.quit().catch(() => client.disconnect())));
    }
  }
}

/** A typical logged-in session (~330 bytes of JSON). */
export function sessionData(i: number): SessionData {
  const cookie = new Cookie();
  cookie.maxAge = 86_400_000;
  return {
    cookie,
    userId: `user-${i % 1000}`,
    roles: ['customer'],
    cart: Array.from({ length: 5 }, (_, j) => ({ sku: `SKU-${i}-${j}`, qty: 1 + (j % 3) })),
    locale: 'en-GB',
    csrf: 'b3f1c2d4e5f60718293a4b5c6d7e8f90',
  } as unknown as SessionData;
}

let requestSeq = 0;

async function measure(bench: Bench, op: Op): Promise<LoopResult & { total: number }> {
  const sid = (w: number, i: number) => `s${(w * 7919 + i * 31) % SESSIONS}`;
  let total = 0;
  const res = await closedLoop(CONCURRENCY, DURATION_MS, async (w, i) => {
    total++;
    const id = sid(w, i);
    switch (op) {
      case 'get':
        return bench.get(id);
      case 'set':
        return bench.set(id, sessionData(i));
      case 'touch':
        return bench.touch(id, sessionData(i));
      case 'request': {
        const data = await bench.get(id);
        if (!data) throw new Error(`session ${id} missing`);
        // What express-session does with a loaded session before the handler runs.
        const session = bench.store.createSession({ sessionID: id } as never, data) as unknown as Record<string, unknown>;
        // A value no earlier run wrote: the save must be a real change, not an unchanged save (which slotwise turns into a touch).
        session.lastSeen = ++requestSeq;
        return bench.set(id, session as unknown as SessionData);
      }
    }
  });
  return { ...res, total };
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  const loadBefore = os.loadavg()[0]!;
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const stats = new ServerStats(cluster.getRootNodes());
    const benches = new Map<Kind, Bench>();
    for (const kind of KINDS) {
      const bench = await open(kind, roots, `bench:${kind}:`);
      for (let i = 0; i < SESSIONS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => bench.set(`s${i + j}`, sessionData(i + j))));
      benches.set(kind, bench);
    }
    for (const op of OPS) {
      const runs = new Map<Kind, LoopResult[]>();
      const serverCpu = new Map<Kind, number[]>();
      for (let r = 0; r < 2; r++) {
        // Alternate the order so no store always runs on a warmer (or more tired) box.
        for (const kind of r === 0 ? KINDS : [...KINDS].reverse()) {
          const cpu0 = await stats.reset();
          const res = await measure(benches.get(kind)!, op);
          // The warm-up and the drain after the window also ran on the servers: divide by every op, not the measured ones.
          const server = await stats.since(cpu0, res.total);
          runs.set(kind, [...(runs.get(kind) ?? []), res]);
          serverCpu.set(kind, [...(serverCpu.get(kind) ?? []), server.cpuUsPerOp]);
          console.log(
            `  ${op} C=${CONCURRENCY} ${LABELS[kind]}: ${res.opsPerSec} ops/s, p50 ${res.p50Ms} ms, p99 ${res.p99Ms} ms, errors ${res.errors}${res.firstError ? ` (${res.firstError})` : ''}, ` +
              `client CPU ${res.cpuUsPerOp} µs/op, server CPU ${server.cpuUsPerOp} µs/op [${server.commands}]`,
          );
        }
      }
      for (const kind of KINDS) {
        const m = meanOfRuns(LABELS[kind], `${op} C=${CONCURRENCY}`, runs.get(kind) as [LoopResult, LoopResult]);
        const cpu = serverCpu.get(kind)!;
        measurements.push({ ...m, extra: { ...m.extra, 'server CPU µs/op': Math.round(cpu.reduce((a, b) => a + b, 0) / cpu.length) } });
      }
    }
    for (const bench of benches.values()) await bench.close();
    await stats.close();
  });
  const load = `Load average (1 min) of the machine: ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end (${os.cpus().length} CPUs); anything above ~3 means other work shared the CPUs and the figures are only indicative. `;
  writeReport({
    name: 'sessions',
    title: 'Sessions: SlotwiseSessionStore vs connect-redis (express-session Store API)',
    command: 'npm run bench -- sessions',
    setup:
      `One fresh cluster of 3 masters × 1 replica on this machine, shared by every store in the same run. ${SESSIONS} sessions per store ` +
      `(~330 bytes of JSON each: cookie, user, roles, a 5-item cart), keys spread over every master. Closed loop, ${CONCURRENCY} in flight, ` +
      `${DURATION_MS} ms measured per run after a warm-up; each row is the mean of two interleaved runs (both under "runs"). ` +
      'Operations go through the express-session Store API with callbacks: `get`, `set` (whole session), `touch`, and `request` = get + createSession + change one attribute + set. ' +
      '"CPU µs/op" is the benchmark process (the client); "server CPU µs/op" is every redis-server of the cluster (replicas included) per operation, from INFO cpu — less sensitive to other load on the machine than ops/s.',
    measurements,
    notes:
      load +
      'connect-redis 9 requires node-redis (`redis` ≥ 5): given an ioredis client its set() sends `SET key value [object Object]` (syntax error, no TTL) — so the ioredis Cluster entry uses connect-redis 7.1.1, the last release that accepts ioredis. ' +
      'What the numbers do not show: connect-redis stores one string per session (a save rewrites all of it; concurrent saves lose updates) and its all()/clear() fail with CROSSSLOT on an ioredis Cluster; slotwise writes one hash field per changed attribute via a Lua script (per-attribute delta, version, tombstone check, sliding + absolute expiry) — more work per save for the servers, bought for correctness; its sliding expiry has a precision of 1/1000 of the TTL (docs/08-sessions.md), so most touches write nothing.',
  });
}
