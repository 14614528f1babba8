import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';
import type { PartitionKeys } from './keys.js';
import type { ResolvedRetention } from './options.js';
import type { QueueScripts } from './scripts.js';

/** Jobs removed per script call: keeps each call short on the server. */
const CLEAN_BATCH = 500;

/** Options of `queue.clean(state, options)`. */
export interface CleanOptions {
  /** Remove only jobs that finished at least this long ago. @default 0 (all) */
  olderThanMs?: number;
  /** Most jobs removed over all partitions. @default unlimited */
  limit?: number;
}

/** Finished jobs `clean()` can remove. */
export type CleanState = 'completed' | 'dead';

/** True when dead letters are not kept at all (`removeOnDead: true`, or a count or age of 0). */
export function dropsDead(r: ResolvedRetention): boolean {
  return r.count === 0 || r.ageMs === 0;
}

/**
 * Retention of finished jobs. Completed markers are trimmed by the ack script
 * itself (by age and count, every completion); dead letters are trimmed here,
 * after a job of this process dies, so their number stays within the
 * `removeOnDead` bounds (plus what dies between two trims).
 */
export class Retention {
  readonly #scripts: QueueScripts;
  readonly #dead: ResolvedRetention;
  readonly #trimming = new Set<number>();
  readonly #again = new Set<number>();
  readonly #error: (err: Error) => void;

  constructor(scripts: QueueScripts, dead: ResolvedRetention, error: (err: Error) => void) {
    this.#scripts = scripts;
    this.#dead = dead;
    this.#error = error;
  }

  /** A job of `pk` died here: trims the partition's dead letters to the policy (one trim in flight per partition). */
  afterDead(pk: PartitionKeys): void {
    if (!Number.isFinite(this.#dead.count) && !Number.isFinite(this.#dead.ageMs)) return;
    if (this.#trimming.has(pk.index)) {
      this.#again.add(pk.index);
      return;
    }
    this.#trimming.add(pk.index);
    void cleanPartition(this.#scripts, pk, 'dead', finite(this.#dead.count), finite(this.#dead.ageMs), Infinity)
      .catch((err: Error) => this.#error(err))
      .finally(() => {
        this.#trimming.delete(pk.index);
        if (this.#again.delete(pk.index)) this.afterDead(pk);
      });
  }
}

/** Validates `clean()`'s arguments. */
export function resolveClean(state: unknown, options: CleanOptions | undefined): { state: CleanState; olderThanMs: number; limit: number } {
  if (state !== 'completed' && state !== 'dead') throw new InvalidArgumentError('state', `expected 'completed' or 'dead', got ${describe(state)}`);
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('clean options', `expected an object, got ${describe(options)}`);
  for (const k of Object.keys(o)) if (!['olderThanMs', 'limit'].includes(k)) throw new InvalidArgumentError(`option "${k}"`, 'unknown clean option; known: olderThanMs, limit');
  const olderThanMs = o.olderThanMs ?? 0;
  const limit = o.limit ?? Infinity;
  if (!Number.isInteger(olderThanMs) || olderThanMs < 0) throw new InvalidArgumentError('olderThanMs', `expected an integer ≥ 0, got ${describe(o.olderThanMs)}`);
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw new InvalidArgumentError('limit', `expected an integer ≥ 1, got ${describe(o.limit)}`);
  return { state, olderThanMs, limit };
}

/**
 * Removes finished jobs of one partition beyond `keep` (−1: no count bound)
 * or finished more than `ageMs` ago (−1: no age bound), at most `limit`;
 * resolves with how many were removed.
 */
export async function cleanPartition(scripts: QueueScripts, pk: PartitionKeys, state: CleanState, keep: number, ageMs: number, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const want = Math.min(CLEAN_BATCH, limit - total);
    if (want <= 0) return total;
    const n = Number(await scripts.clean.run([pk.dead, pk.completed], [pk.jobPrefix, state, keep, ageMs, want]));
    total += n;
    if (n < want) return total;
  }
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : -1;
}
