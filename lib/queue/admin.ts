import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import type { PartitionKeys } from './keys.js';

const DRAIN_LUA = readFileSync(new URL('./lua/drain.lua', import.meta.url), 'utf8');

/** A job as `peekJobs()` shows it. */
export interface PeekedJob {
  readonly jobId: string;
  readonly state: 'waiting' | 'in flight' | 'delayed';
  readonly partition: number;
  /** Its priority level (the ready stream it waits in; for delayed jobs, the one it goes to). */
  readonly priority: number;
  /** Deliveries used. */
  readonly attempts: number;
  /** The stored payload text. */
  readonly data: string;
  /** For delayed jobs: server time (ms) it is due. */
  readonly dueAt?: number;
}

/**
 * Deletes every job of `parts` not started yet (waiting or delayed), in
 * batches of 500 per script call; jobs in flight run on. Resolves with the
 * counts deleted. (Operator tool behind `slotwise queue drain`.)
 */
export async function drainPartitions(client: ClusterClient, parts: readonly PartitionKeys[], group: string): Promise<{ waiting: number; delayed: number }> {
  const script = client.defineScript({ name: 'queue:drain', lua: DRAIN_LUA });
  let waiting = 0;
  let delayed = 0;
  for (const pk of parts) {
    for (;;) {
      const [w, d] = (await script.run([pk.ready, pk.delayed, ...pk.levels.slice(1)], [group, pk.jobPrefix, 500])) as [number, number];
      waiting += Number(w);
      delayed += Number(d);
      if (Number(w) < 500 && Number(d) < 500) break;
    }
  }
  return { waiting, delayed };
}

/**
 * The first `limit` jobs of each partition's ready stream of every priority
 * level (highest level first, oldest first within one) and of its delayed
 * set (soonest first).
 */
export async function peekJobs(client: ClusterClient, parts: readonly PartitionKeys[], group: string, limit: number): Promise<PeekedJob[]> {
  const out: PeekedJob[] = [];
  for (const pk of parts) {
    for (let level = pk.levels.length - 1; level >= 0; level--) {
      const stream = pk.levels[level]!;
      const entries = (await client.call('XRANGE', stream, '-', '+', 'COUNT', limit)) as [string, string[]][];
      const pending = new Set(((await client.call('XPENDING', stream, group, '-', '+', limit).catch(() => [])) as [string][]).map((p) => p[0]));
      for (const [eid, fields] of entries) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        out.push({ jobId: f.id ?? '', state: pending.has(eid) ? 'in flight' : 'waiting', partition: pk.index, priority: level, attempts: Number(f.a ?? 0), data: f.d ?? '' });
      }
    }
    const delayed = await client.zrange(pk.delayed, '0', String(limit - 1), 'WITHSCORES');
    for (let i = 0; i + 1 < delayed.length; i += 2) {
      const id = delayed[i]!;
      const h = await client.hmget(pk.jobPrefix + id, 'd', 'a', 'pr');
      out.push({ jobId: id, state: 'delayed', partition: pk.index, priority: Number(h[2] ?? 0), attempts: Number(h[1] ?? 0), data: h[0] ?? '', dueAt: Number(delayed[i + 1]) });
    }
  }
  return out;
}
