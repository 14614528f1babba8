import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClusterClient } from '../cluster-client.js';
import { readBackoff } from './retry.js';
import { ClientClosedError, RedisReplyError } from '../errors.js';
import type { Subscription } from '../pubsub/subscription.js';
import type { ResolvedProcessOptions } from './options.js';
import type { PartitionKeys } from './keys.js';
import type { QueueScripts } from './scripts.js';
import { ConcurrencyLimiter } from './concurrency.js';
import type { QueueLimits } from './limiter.js';
import { gatedRead, type Delivery, type GatedReaderHost } from './priority.js';

export type { Delivery } from './priority.js';

/** What the worker loop hands deliveries to, and reports to (the WorkQueue). */
export interface WorkerHost {
  readonly client: ClusterClient;
  readonly group: string;
  readonly visibilityTimeoutMs: number;
  readonly maxDeliveries: number;
  /** MAXLEN of the partition's events stream (0: no events). */
  readonly eventsMaxLen: number;
  readonly scripts: QueueScripts;
  /** The queue-wide rate limit and concurrency cap (inactive when neither is set). */
  readonly limits: QueueLimits;
  /** Keep no dead letter when a reclaim uses up a job's deliveries (`removeOnDead: true`). */
  readonly dropDead: boolean;
  /** Runs a delivery (handler, then ack or fail); resolves when it is settled. */
  run(pk: PartitionKeys, d: Delivery, consumer: string, lost: (cb: (why: string) => void) => void): Promise<void>;
  stalled(pk: PartitionKeys, d: Delivery): void;
  error(err: Error): void;
}

/**
 * The consuming side of a WorkQueue: per partition one reader blocked in
 * XREADGROUP on a pooled dedicated connection (so a worker needs at most one
 * connection per partition, however high its concurrency), a due-timer for
 * the delayed set (woken by producers over sharded pub/sub, so no polling), a
 * periodic reclaim of deliveries whose worker died, and a heartbeat that
 * renews the deliveries it runs.
 */
export class Worker {
  readonly consumer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #host: WorkerHost;
  readonly #parts: readonly PartitionKeys[];
  readonly #opts: ResolvedProcessOptions;
  readonly #limiter: ConcurrencyLimiter<{ pk: PartitionKeys; d: Delivery }>;
  readonly #abort = new AbortController();
  /**
   * Deliveries held by this worker (running or waiting for a slot), all
   * renewed by the heartbeat. Keyed by partition AND entry id: entry ids are
   * per stream, so two partitions can hand out the same one.
   */
  readonly #held = new Map<string, { pk: PartitionKeys; stream: string; eid: string; lease: string | undefined; done: Promise<void> | undefined; lose: (why: string) => void }>();
  /** Cap leases of ended jobs, given back together on the next tick. */
  #leasesToRelease: string[] = [];
  /** Wakes gated readers waiting for a cap slot when a job here ends. */
  #jobEnded: (() => void)[] = [];
  readonly #due = new Map<number, { at: number; timer: NodeJS.Timeout }>();
  readonly #promoting = new Set<number>();
  readonly #timers: NodeJS.Timeout[] = [];
  #readers: Promise<void>[] = [];
  #wake: Subscription | undefined;
  #closing = false;
  /** While paused: resolves on resume() or close(). */
  #unpaused: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(host: WorkerHost, parts: readonly PartitionKeys[], opts: ResolvedProcessOptions) {
    this.#host = host;
    this.#parts = parts;
    this.#opts = opts;
    this.#limiter = new ConcurrencyLimiter(opts.concurrency, (item) => this.#execute(item.pk, item.d));
  }

  async start(): Promise<void> {
    await Promise.all(this.#parts.map((pk) => this.#ensureGroup(pk)));
    this.#wake = await this.#host.client.ssubscribe(this.#parts.map((pk) => pk.wake), (message, channel) => this.#onWake(channel, message));
    // A wake-up missed while the subscription was not live: look at everything again.
    this.#wake.on('gap', () => this.#parts.forEach((pk) => this.#promote(pk)));
    const gated = this.#parts.some((pk) => pk.levels.length > 1) || this.#host.limits.active;
    this.#readers = this.#parts.map((pk) => (gated ? gatedRead(this.#gatedHost(), pk) : this.#read(pk)));
    for (const pk of this.#parts) {
      this.#promote(pk);
      this.#timers.push(setInterval(() => void this.#reclaim(pk), this.#opts.reclaimIntervalMs));
    }
    this.#timers.push(setInterval(() => void this.#heartbeat(), Math.max(50, Math.floor(this.#host.visibilityTimeoutMs / 3))));
  }

  /** Starts no job until resume(): reads and takeovers stop; deliveries already read wait. */
  pause(): void {
    if (this.#unpaused || this.#closing) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#unpaused = { promise, resolve };
  }

  resume(): void {
    const u = this.#unpaused;
    this.#unpaused = undefined;
    u?.resolve();
  }

  /** Schedules a promotion of `partition`'s delayed set `inMs` from now (a producer added an earlier job). */
  wakeAt(pk: PartitionKeys, inMs: number): void {
    if (this.#closing) return;
    const at = Date.now() + Math.max(0, inMs);
    const cur = this.#due.get(pk.index);
    if (cur !== undefined && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    this.#due.set(pk.index, { at, timer: setTimeout(() => this.#promote(pk), Math.max(0, inMs)) });
  }

  /**
   * Stops reading, lets running jobs finish for up to `timeoutMs`, then gives
   * the rest back (another worker takes them over at once, without using up a
   * delivery) — as well as anything an aborted read had already delivered.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.resume(); // paused readers and deliveries wake up, see #closing and stop
    this.#abort.abort();
    for (const d of this.#due.values()) clearTimeout(d.timer);
    this.#due.clear();
    await Promise.allSettled(this.#readers);
    // Not started yet: give back at once (below, with everything else we still hold).
    for (const { pk, d } of this.#limiter.drainWaiting()) {
      this.#held.delete(heldKey(pk, d));
      if (d.lease !== undefined) this.#leasesToRelease.push(d.lease);
    }
    const running = [...this.#held.values()].map((h) => h.done).filter((p) => p !== undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(running), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const t of this.#timers) clearInterval(t);
    for (const h of this.#held.values()) {
      h.lose('the worker closed before the job finished; released to other workers');
      if (h.lease !== undefined) this.#leasesToRelease.push(h.lease);
      h.lease = undefined;
    }
    await this.#flushLeases();
    await Promise.allSettled(this.#parts.map((pk) => this.#releaseOwn(pk)));
    await this.#wake?.unsubscribe().catch(() => undefined);
  }

  async #read(pk: PartitionKeys): Promise<void> {
    const { client } = this.#host;
    const share = Math.max(1, Math.ceil(this.#opts.concurrency / this.#parts.length));
    let failures = 0;
    while (!this.#closing) {
      if (this.#unpaused) await this.#unpaused.promise;
      if (this.#closing) break;
      await this.#limiter.roomAvailable(this.#abort.signal);
      if (this.#closing) break;
      const n = Math.max(1, Math.min(share, this.#limiter.room));
      let reply: unknown;
      try {
        reply = await client.send('xreadgroup', ['GROUP', this.#host.group, this.consumer, 'COUNT', n, 'BLOCK', this.#opts.blockMs, 'STREAMS', pk.ready, '>'], {
          signal: this.#abort.signal,
        });
        failures = 0;
      } catch (err) {
        if (this.#closing) break;
        if (err instanceof ClientClosedError) {
          // The client was closed under a running worker: stop, rather than retry forever.
          void this.close(0);
          break;
        }
        if (isReply(err, 'NOGROUP')) {
          // The stream or its group is gone (e.g. deleted, or lost with an unreplicated failover): recreate it.
          await this.#ensureGroup(pk).catch((e: Error) => this.#host.error(e));
          continue;
        }
        this.#host.error(err as Error);
        await readBackoff(failures++, this.#abort.signal);
        continue;
      }
      for (const d of parseRead(reply, pk.ready)) this.#hold(pk, d);
    }
  }

  /** Takes on a delivery: it gets heartbeats from now on and runs when a slot is free. */
  #hold(pk: PartitionKeys, d: Delivery): void {
    this.#held.set(heldKey(pk, d), { pk, stream: d.stream, eid: d.entryId, lease: d.lease, done: undefined, lose: () => undefined });
    this.#limiter.push({ pk, d });
  }

  #execute(pk: PartitionKeys, d: Delivery): Promise<void> {
    // Paused: keep it (the heartbeat renews it) and start it on resume; on close it is given back.
    if (this.#unpaused) return this.#unpaused.promise.then(() => (this.#closing ? undefined : this.#execute(pk, d)));
    const key = heldKey(pk, d);
    const h = this.#held.get(key);
    if (h === undefined) return Promise.resolve();
    // Its rate grant aged while it waited (a stalled process, a full worker): ask again, so starts keep the bound.
    if (d.freshUntil !== undefined && Date.now() > d.freshUntil) {
      return this.#host.limits.regrant(this.consumer, d.grantedUs ?? 0, this.#abort.signal).then(
        (g) => (g === undefined || this.#closing ? undefined : this.#execute(pk, { ...d, ...g })),
        (err: Error) => {
          this.#host.error(err);
          return this.#execute(pk, { ...d, freshUntil: undefined });
        },
      );
    }
    h.done = this.#host
      .run(pk, d, this.consumer, (cb) => (h.lose = cb))
      .catch((err: Error) => this.#host.error(err))
      .finally(() => {
        if (this.#held.get(key) === h) this.#held.delete(key);
        if (h.lease !== undefined) this.#releaseLease(h.lease);
        h.lease = undefined;
        for (const w of this.#jobEnded.splice(0)) w();
      });
    return h.done;
  }

  #promote(pk: PartitionKeys): void {
    const cur = this.#due.get(pk.index);
    if (cur) clearTimeout(cur.timer);
    this.#due.delete(pk.index);
    if (this.#closing || this.#promoting.has(pk.index)) return;
    this.#promoting.add(pk.index);
    this.#host.scripts.promote
      .run([pk.ready, pk.delayed, ...pk.levels.slice(1)], [pk.jobPrefix, 500])
      .then(
        (reply) => {
          const next = Number((reply as unknown[])[1]);
          this.#promoting.delete(pk.index);
          this.wakeAt(pk, next >= 0 ? Math.min(next, this.#opts.promoteIntervalMs) : this.#opts.promoteIntervalMs);
        },
        (err: Error) => {
          this.#promoting.delete(pk.index);
          if (this.#closing) return;
          this.#host.error(err);
          this.wakeAt(pk, 250);
        },
      );
  }

  #onWake(channel: string, message: string): void {
    const pk = this.#parts.find((p) => p.wake === channel);
    if (pk === undefined) return;
    if (message === 'r') void this.#reclaim(pk);
    else if (message.startsWith('d:')) this.wakeAt(pk, Number(message.slice(2)) || 0);
  }

  async #reclaim(pk: PartitionKeys): Promise<void> {
    let n = Math.min(Math.max(1, Math.ceil(this.#opts.concurrency / this.#parts.length)), this.#limiter.room);
    if (this.#closing || this.#unpaused || n === 0) return;
    const { limits } = this.#host;
    let leases: readonly string[] = [];
    let freshUntil: number | undefined;
    let grantedUs = 0;
    if (limits.active) {
      if (!(await this.#anyStalled(pk))) return;
      // A takeover starts a job too: it counts against the rate and needs a cap slot.
      const g = await limits.acquire(n, this.consumer).catch((err: Error) => (this.#host.error(err), undefined));
      if (g === undefined || g.granted === 0) return;
      n = g.granted;
      leases = g.leases;
      freshUntil = g.freshUntil;
      grantedUs = g.grantedUs;
    }
    const claimed: Delivery[] = [];
    // Highest level first, so stalled high-priority jobs are taken over first.
    for (const stream of [...pk.levels].reverse()) {
      if (claimed.length >= n) break;
      try {
        const reply = await this.#host.scripts.reclaim.run([stream, pk.dead, pk.events], [
          this.#host.group, this.consumer, this.#host.visibilityTimeoutMs, n - claimed.length, pk.jobPrefix, this.#host.maxDeliveries, this.#host.dropDead ? '1' : '0',
          this.#host.eventsMaxLen,
        ]);
        for (const [entryId, jobId, payload, used] of reply as [string, string, string, number][]) {
          claimed.push({ entryId, jobId, payload, used: Number(used), stream, lease: leases[claimed.length], freshUntil, grantedUs });
        }
      } catch (err) {
        if (!this.#closing && !isReply(err, 'NOGROUP')) this.#host.error(err as Error);
      }
    }
    if (limits.active && claimed.length < n) void limits.release(leases.slice(claimed.length), n - claimed.length, grantedUs).catch((e: Error) => this.#host.error(e));
    for (const d of claimed) {
      this.#host.stalled(pk, d);
      this.#hold(pk, d);
    }
  }

  /** Whether some delivery of `pk` has been idle past the visibility timeout (saves limited queues a grant per reclaim tick). */
  async #anyStalled(pk: PartitionKeys): Promise<boolean> {
    for (const stream of pk.levels) {
      const r = (await this.#host.client.call('XPENDING', stream, this.#host.group, 'IDLE', this.#host.visibilityTimeoutMs, '-', '+', 1).catch(() => [])) as unknown[];
      if (r.length > 0) return true;
    }
    return false;
  }

  async #heartbeat(): Promise<void> {
    const byStream = new Map<string, { pk: PartitionKeys; eids: string[] }>();
    const leases: string[] = [];
    for (const f of this.#held.values()) {
      const s = byStream.get(f.stream);
      if (s) s.eids.push(f.eid);
      else byStream.set(f.stream, { pk: f.pk, eids: [f.eid] });
      if (f.lease !== undefined) leases.push(f.lease);
    }
    await Promise.all([...byStream].map(async ([stream, { pk, eids }]) => {
      try {
        const lost = (await this.#host.scripts.touch.run([stream], [this.#host.group, this.consumer, ...eids])) as string[];
        for (const eid of lost) this.#held.get(heldKey(pk, { stream, entryId: eid }))?.lose('another worker took it over after the visibility timeout');
      } catch (err) {
        if (!this.#closing) this.#host.error(err as Error);
      }
    }).concat(this.#host.limits.renew(leases).catch((err: Error) => {
      if (!this.#closing) this.#host.error(err);
    })));
  }

  /** Gives back every delivery this consumer still holds in `pk`; forgets the consumer when none is left. */
  async #releaseOwn(pk: PartitionKeys): Promise<void> {
    const { client, group } = this.#host;
    let released = false;
    for (const stream of pk.levels) {
      const pending = (await client.call('XPENDING', stream, group, '-', '+', 10_000, this.consumer).catch(() => [])) as [string][];
      const eids = pending.map((p) => p[0]);
      if (eids.length > 0) {
        await this.#host.scripts.release.run([stream], [group, this.consumer, this.#host.visibilityTimeoutMs + 1, pk.jobPrefix, ...eids]);
        released = true;
      } else {
        await client.call('XGROUP', 'DELCONSUMER', stream, group, this.consumer).catch(() => undefined);
      }
    }
    // Tell the others now rather than at their next reclaim interval.
    if (released) await client.spublish(pk.wake, 'r').catch(() => undefined);
  }

  async #ensureGroup(pk: PartitionKeys): Promise<void> {
    for (const stream of pk.levels) {
      try {
        await this.#host.client.call('XGROUP', 'CREATE', stream, this.#host.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!isReply(err, 'BUSYGROUP')) throw err;
      }
    }
  }

  #releaseLease(lease: string): void {
    this.#leasesToRelease.push(lease);
    if (this.#leasesToRelease.length === 1) setImmediate(() => void this.#flushLeases());
  }

  async #flushLeases(): Promise<void> {
    const leases = this.#leasesToRelease.splice(0);
    await this.#host.limits.release(leases).catch((err: Error) => this.#host.error(err));
  }

  /** What a gated reader (priorities or queue-wide limits) needs from this worker. */
  #gatedHost(): GatedReaderHost {
    const { client, group, scripts, limits } = this.#host;
    const share = Math.max(1, Math.ceil(this.#opts.concurrency / this.#parts.length));
    return {
      client, group, scripts, limits, consumer: this.consumer, blockMs: this.#opts.blockMs, signal: this.#abort.signal,
      closing: () => this.#closing,
      room: async () => {
        for (;;) {
          if (this.#unpaused) await this.#unpaused.promise;
          await this.#limiter.roomAvailable(this.#abort.signal);
          if (this.#closing || (!this.#unpaused && this.#limiter.room > 0)) return Math.max(1, Math.min(share, this.#limiter.room));
        }
      },
      pause: (ms) => new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#abort.signal.removeEventListener('abort', done);
          const i = this.#jobEnded.indexOf(done);
          if (i !== -1) this.#jobEnded.splice(i, 1);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.#jobEnded.push(done);
        this.#abort.signal.addEventListener('abort', done, { once: true });
      }),
      hold: (pk, d) => this.#hold(pk, d),
      error: (err) => this.#host.error(err),
      ensureGroup: (pk) => this.#ensureGroup(pk),
    };
  }
}

/** The server refused with this error code (e.g. NOGROUP); decided on the reply's prefix, not its wording. */
function isReply(err: unknown, prefix: string): boolean {
  return err instanceof RedisReplyError && err.prefix === prefix;
}

function heldKey(pk: PartitionKeys, d: { readonly stream: string; readonly entryId: string }): string {
  return pk.levels.length === 1 ? `${pk.index}/${d.entryId}` : `${pk.index}/${d.stream}/${d.entryId}`;
}

/** XREADGROUP reply `[[stream, [[id, [field, value, …]], …]]]` (same in RESP2 and RESP3) → deliveries. */
function parseRead(reply: unknown, stream: string): Delivery[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = (reply[0] as [string, [string, string[]][]])[1] ?? [];
  const out: Delivery[] = [];
  for (const [entryId, fields] of entries) {
    if (!Array.isArray(fields)) continue; // deleted while pending: nothing to run
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    if (f.id === undefined || f.d === undefined) continue;
    out.push({ entryId, jobId: f.id, payload: f.d, used: Number(f.a ?? 0), stream });
  }
  return out;
}
