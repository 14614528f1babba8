import { SLOT_COUNT, slotOf } from '../core/slots.js';

/** Every key of one partition; all share one hash tag, hence one slot. */
export interface PartitionKeys {
  /** The partition's number, 0-based. */
  readonly index: number;
  /** The hash slot all its keys are in. */
  readonly slot: number;
  /** Stream of jobs ready to run (consumer group `group`); priority 0's stream. */
  readonly ready: string;
  /**
   * Ready stream of each priority level, by level (`[0]` is `ready`; level
   * `p > 0` is `ready:p`). One entry unless the queue has `priorities > 1`.
   */
  readonly levels: readonly string[];
  /** Sorted set of delayed job ids by due time (server ms). */
  readonly delayed: string;
  /** Stream of dead-lettered jobs with their last error. */
  readonly dead: string;
  /** Sorted set of kept completed-job markers (explicit job ids) by completion time (server ms). */
  readonly completed: string;
  /** Prefix of job hashes: `<jobPrefix><jobId>`. */
  readonly jobPrefix: string;
  /** Sharded pub/sub channel workers listen on for "a delayed job is due soon". */
  readonly wake: string;
  /** Sorted set of repeatable keys by their next tick not yet enqueued (ms). */
  readonly repeat: string;
  /** Hash of repeatable definitions (JSON) by key. */
  readonly repeatDefs: string;
  /** Bounded stream of job events (completed, failed, dead, stalled, progress) read by QueueEvents. */
  readonly events: string;
}

/**
 * Key layout of a queue. Partition `p`'s hash tag is chosen so its slot lies
 * near the middle of the p-th of `count` equal slot ranges: masters own
 * contiguous ranges, so partitions spread over masters instead of piling onto
 * one by chance — and a slot near a range's middle stays clear of the range
 * edges where a master's share usually ends. The choice depends only on the
 * name and count, so every process agrees.
 */
export function partitionKeys(prefix: string, name: string, count: number, priorities = 1): PartitionKeys[] {
  const out: PartitionKeys[] = [];
  for (let p = 0; p < count; p++) {
    const tag = count === 1 ? `${name}:${p}` : centredTag(name, p, count);
    const base = `${prefix}:{${tag}}`;
    out.push({
      index: p,
      slot: slotOf(`{${tag}}`),
      ready: `${base}:ready`,
      levels: Object.freeze(Array.from({ length: priorities }, (_, l) => (l === 0 ? `${base}:ready` : `${base}:ready:${l}`))),
      delayed: `${base}:delayed`,
      dead: `${base}:dead`,
      completed: `${base}:completed`,
      jobPrefix: `${base}:job:`,
      wake: `${base}:wake`,
      repeat: `${base}:repeat`,
      repeatDefs: `${base}:repeat:defs`,
      events: `${base}:events`,
    });
  }
  return out;
}

/** Candidate tags looked at per partition before settling for the closest in range. */
const CANDIDATES = 256;

function centredTag(name: string, p: number, count: number): string {
  const lo = Math.floor((p * SLOT_COUNT) / count);
  const hi = Math.floor(((p + 1) * SLOT_COUNT) / count);
  const centre = (lo + hi - 1) / 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  // Past CANDIDATES tries (only with many partitions, hence narrow ranges) take the first in range.
  for (let k = 0; k < CANDIDATES || best === undefined; k++) {
    const tag = k === 0 ? `${name}:${p}` : `${name}:${p}:${k}`;
    const slot = slotOf(`{${tag}}`);
    if (!inRange(slot, lo, hi)) continue;
    const distance = Math.abs(slot - centre);
    if (distance < bestDistance) {
      best = tag;
      bestDistance = distance;
    }
  }
  return best;
}

function inRange(slot: number, lo: number, hi: number): boolean {
  return slot >= lo && slot < hi;
}

/** Partition of a job: FNV-1a of its partition key (or id), so one key always maps to one partition. */
export function partitionOf(key: string, count: number): number {
  if (count === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}

/** Keys of the queue-wide limits (rate and global concurrency): their own hash tag, hence one slot. */
export interface LimitKeys {
  /** Hash of the queue's rate limit: GCRA theoretical arrival time `t` and when it last restarted `c` (server µs). */
  readonly rate: string;
  /** Sorted set of running-job leases by expiry (server ms), for the global concurrency cap. */
  readonly running: string;
}

export function limitKeys(prefix: string, name: string): LimitKeys {
  const base = `${prefix}:{${name}:limits}`;
  return { rate: `${base}:rate`, running: `${base}:running` };
}
