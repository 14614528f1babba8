import type { ClusterClient } from '../cluster-client.js';
import { readBackoff } from './retry.js';
import { RedisReplyError } from '../errors.js';
import type { PartitionKeys } from './keys.js';
import type { QueueLimits } from './limiter.js';
import type { QueueScripts } from './scripts.js';

/** One delivery read from a partition's ready stream. */
export interface Delivery {
  readonly entryId: string;
  readonly jobId: string;
  readonly payload: string;
  /** Deliveries used before this one. */
  readonly used: number;
  /** The ready stream it was read from (its priority level's). */
  readonly stream: string;
  /** Its lease of the queue-wide concurrency cap, if the queue has one. */
  readonly lease?: string;
  /** With a rate limit: Date.now() after which its grant is too old to start it (see QueueLimits.regrant). */
  readonly freshUntil?: number;
  /** Server µs its rate grant was made at. */
  readonly grantedUs?: number;
}

/** What a gated reader needs from its worker. */
export interface GatedReaderHost {
  readonly client: ClusterClient;
  readonly group: string;
  readonly consumer: string;
  readonly scripts: QueueScripts;
  readonly limits: QueueLimits;
  readonly blockMs: number;
  /** Aborted when the worker closes. */
  readonly signal: AbortSignal;
  closing(): boolean;
  /** Resolves when the worker may read (not paused) and has room; returns how many it may take. */
  room(): Promise<number>;
  /** Resolves after `ms`, or earlier when a job of this worker ends (a cap slot may be free). */
  pause(ms: number): Promise<void>;
  hold(pk: PartitionKeys, d: Delivery): void;
  error(err: Error): void;
  ensureGroup(pk: PartitionKeys): Promise<void>;
}

/**
 * The reader of one partition for queues with priority levels or queue-wide
 * limits. Each batch: ask the limits for up to `n` starts (when set), then
 * take up to the granted number with ONE atomic script over the partition's
 * level streams, highest first — so within a partition no job is handed out
 * while one of a higher level is ready. When the partition is empty it waits
 * in a non-consuming `XREAD … BLOCK` past the group's last delivered ids,
 * which wakes as soon as anything undelivered arrives in any level (a
 * consuming blocking read could take a low job while a high one arrives).
 */
export async function gatedRead(host: GatedReaderHost, pk: PartitionKeys): Promise<void> {
  const streams = [...pk.levels].reverse();
  const top = pk.levels.length - 1;
  let failures = 0;
  const backoff = (err: Error) => {
    if (host.closing()) return Promise.resolve();
    host.error(err);
    return readBackoff(failures++, host.signal);
  };
  while (!host.closing()) {
    let n = await host.room();
    if (host.closing()) break;
    let leases: readonly string[] = [];
    let freshUntil: number | undefined;
    let grantedUs = 0;
    if (host.limits.active) {
      try {
        const g = await host.limits.acquire(n, host.consumer);
        if (g.granted === 0) {
          await host.pause(g.retryAfterMs);
          continue;
        }
        n = g.granted;
        leases = g.leases;
        freshUntil = g.freshUntil;
        grantedUs = g.grantedUs;
      } catch (err) {
        await backoff(err as Error);
        continue;
      }
    }
    let reply: [[number, string, string[]][], string[]];
    try {
      reply = (await host.scripts.fetch.run(streams, [host.group, host.consumer, n, top])) as typeof reply;
      failures = 0;
    } catch (err) {
      void host.limits.release(leases, n, grantedUs).catch(() => undefined);
      if (isReply(err, 'NOGROUP')) await host.ensureGroup(pk).catch((e: Error) => host.error(e));
      else await backoff(err as Error);
      continue;
    }
    const [entries, ids] = reply;
    let got = 0;
    for (const [level, entryId, fields] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (f.id === undefined || f.d === undefined) continue;
      host.hold(pk, { entryId, jobId: f.id, payload: f.d, used: Number(f.a ?? 0), stream: pk.levels[Number(level)]!, lease: leases[got], freshUntil, grantedUs });
      got++;
    }
    // Grants that started nothing go back: leases at once, rate units as credit.
    if (got < n && host.limits.active) {
      void host.limits.release(leases.slice(got), n - got, grantedUs).catch((e: Error) => host.error(e));
    }
    if (entries.length === 0 && ids.length === streams.length) {
      try {
        await host.client.send('xread', ['COUNT', 1, 'BLOCK', host.blockMs, 'STREAMS', ...streams, ...ids], { signal: host.signal });
      } catch (err) {
        if (!host.closing()) await backoff(err as Error);
      }
    }
  }
}

function isReply(err: unknown, prefix: string): boolean {
  return err instanceof RedisReplyError && err.prefix === prefix;
}
