import {
  CircuitOpenError,
  ConnectionError,
  InvalidArgumentError,
  TimeoutError,
  TopologyError,
} from '../errors.js';
import { describe } from '../core/describe.js';
import { slotOf, SLOT_COUNT } from '../core/slots.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { Router } from '../router/router.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { parseSelfView, stableSlots } from './self-view.js';

/** Options of `client.scanIterator()`. */
export interface ScanOptions {
  /** Glob pattern keys must match (`SCAN … MATCH`). @default undefined (every key) */
  match?: string;
  /** Keys each SCAN step looks at on a node (`SCAN … COUNT`, a hint). @default 100 */
  count?: number;
  /** Only keys of this type (`SCAN … TYPE`), e.g. `'hash'`. @default undefined */
  type?: string;
  /**
   * How long the iterator keeps waiting for slots it could not yet cover
   * (no master serves them, or they keep moving) without covering any new
   * slot, before it fails with TopologyError.
   * @default 30000
   */
  stallTimeoutMs?: number;
}

/** Counters of one scan, for observability and tests. */
export interface ScanStats {
  /** Passes over the masters (1 on a quiet cluster). */
  readonly rounds: number;
  /** Complete or abandoned SCAN iterations of one node. */
  readonly nodeScans: number;
  /** Node scans given up because the node failed or timed out. */
  readonly abandonedNodeScans: number;
  /** Keys yielded (repeats included). */
  readonly keys: number;
}

const BUFFER_REPLY = Object.freeze({ buffer: true });

interface Resolved {
  readonly tail: readonly string[];
  readonly stallTimeoutMs: number;
}

function resolve(opts: ScanOptions | undefined): Resolved {
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
    throw new InvalidArgumentError('scan options', `expected an object, got ${describe(opts)}`);
  }
  const o = opts ?? {};
  for (const key of Object.keys(o)) {
    if (!['match', 'count', 'type', 'stallTimeoutMs'].includes(key)) {
      throw new InvalidArgumentError(`scan option "${key}"`, 'unknown option; known: match, count, type, stallTimeoutMs');
    }
  }
  const tail: string[] = [];
  if (o.match !== undefined) {
    if (typeof o.match !== 'string' || o.match.length === 0) throw new InvalidArgumentError('match', `expected a non-empty glob pattern, got ${describe(o.match)}`);
    tail.push('MATCH', o.match);
  }
  const count = o.count ?? 100;
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new InvalidArgumentError('count', `expected an integer from 1 to 1000000, got ${describe(o.count)}`);
  tail.push('COUNT', String(count));
  if (o.type !== undefined) {
    if (typeof o.type !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(o.type)) throw new InvalidArgumentError('type', `expected a type name such as "string" or "hash", got ${describe(o.type)}`);
    tail.push('TYPE', o.type);
  }
  const stallTimeoutMs = o.stallTimeoutMs ?? 30_000;
  if (!Number.isInteger(stallTimeoutMs) || stallTimeoutMs < 1) throw new InvalidArgumentError('stallTimeoutMs', `expected a positive integer, got ${describe(o.stallTimeoutMs)}`);
  return { tail, stallTimeoutMs };
}

/** Failures of one node that the scan survives by covering its slots elsewhere later. */
function isNodeFailure(err: unknown): boolean {
  return err instanceof ConnectionError || err instanceof TimeoutError || err instanceof CircuitOpenError || err instanceof TopologyError;
}

/**
 * A cluster-wide SCAN: every master is scanned in turn, and a slot counts as
 * covered only when a complete scan of its owner saw it owned, not
 * migrating, before AND after (see `stableSlots`). Slots not covered —
 * because they moved during the scan (reshard) or their node failed
 * (failover) — are covered in further rounds on their current owners, from
 * cursor 0; keys of already-covered slots are not yielded again.
 *
 * Guarantee: every key that exists from the start to the end of the
 * iteration is yielded at least once; keys in slots that moved or whose
 * master failed over during the scan may be yielded more than once; on a
 * quiet cluster every key is yielded exactly once (as far as SCAN itself
 * guarantees that). Keys written or deleted meanwhile may or may not appear.
 */
export class ScanIterator implements AsyncIterableIterator<string> {
  readonly #router: Router;
  readonly #opts: Resolved;
  readonly #gen: AsyncGenerator<string, void, undefined>;
  #rounds = 0;
  #nodeScans = 0;
  #abandoned = 0;
  #keys = 0;

  /**
   * Use `client.scanIterator()`. Validates `opts` at once
   * (InvalidArgumentError); nothing is sent before the first `next()`.
   * @internal
   */
  constructor(router: Router, opts?: ScanOptions) {
    this.#router = router;
    this.#opts = resolve(opts);
    this.#gen = this.#run();
  }

  /** The current snapshot; rediscovered first when `fresh` (a later round). */
  async #snapshot(fresh: boolean): Promise<TopologySnapshot | undefined> {
    await this.#router.ready();
    if (fresh) await this.#router.refresh('scan');
    return this.#router.current;
  }

  /** What the scan did so far: rounds, node scans, keys yielded. */
  get stats(): ScanStats {
    return { rounds: this.#rounds, nodeScans: this.#nodeScans, abandonedNodeScans: this.#abandoned, keys: this.#keys };
  }

  /** The next key; scans further nodes as needed. */
  async next(): Promise<IteratorResult<string, undefined>> {
    const r = await this.#gen.next();
    return r.done === true ? { done: true, value: undefined } : r;
  }

  /** Stops the scan early (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<string, undefined>> {
    await this.#gen.return(undefined);
    return { done: true, value: undefined };
  }

  /** The iterator itself, for `for await`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  async *#run(): AsyncGenerator<string, void, undefined> {
    const covered = new Uint8Array(SLOT_COUNT);
    let coveredCount = 0;
    let lastProgress = Date.now();
    let backoff = 25;
    let lastFailure: unknown;
    while (coveredCount < SLOT_COUNT) {
      const snap = await this.#snapshot(this.#rounds > 0);
      this.#rounds++;
      let progressed = false;
      for (const shard of snap?.shards ?? []) {
        // After the first round, only owners (per the fresh map) of slots still uncovered.
        if (this.#rounds > 1 && !snap!.ranges(shard.index).some(([a, b]) => covered.subarray(a, b + 1).includes(0))) continue;
        const m = shard.master;
        // A master the cluster marks failed cannot be scanned; its slots wait for a failover.
        if (m.health === 'failed') continue;
        const node = this.#router.node(m);
        let stable: Uint8Array | undefined;
        try {
          stable = yield* this.#scanNode(node, covered);
        } catch (err) {
          if (!isNodeFailure(err)) throw err;
          this.#abandoned++;
          lastFailure = err;
          continue;
        }
        for (let s = 0; s < SLOT_COUNT; s++) {
          if (stable[s] === 1 && covered[s] === 0) {
            covered[s] = 1;
            coveredCount++;
            progressed = true;
          }
        }
      }
      if (coveredCount === SLOT_COUNT) return;
      if (progressed) {
        lastProgress = Date.now();
        backoff = 25;
        continue;
      }
      if (Date.now() - lastProgress >= this.#opts.stallTimeoutMs) {
        throw new TopologyError(
          `scanIterator could not cover ${SLOT_COUNT - coveredCount} slots (${describeSlots(covered)}) within stallTimeoutMs ` +
            `(${this.#opts.stallTimeoutMs} ms): no master served them steadily${lastFailure instanceof Error ? `; last error: ${lastFailure.message}` : ''}`,
          {},
          lastFailure === undefined ? {} : { cause: lastFailure },
        );
      }
      await this.#router.pause(backoff);
      backoff = Math.min(1000, backoff * 2);
    }
  }

  /** One complete SCAN of one node; returns the slots it covered steadily. */
  async *#scanNode(node: NodeHandle, covered: Uint8Array): AsyncGenerator<string, Uint8Array, undefined> {
    this.#nodeScans++;
    const before = parseSelfView(await this.#router.execute('cluster', ['nodes'], {}, { node }));
    if (before.role !== 'master') return new Uint8Array(SLOT_COUNT);
    let cursor = '0';
    do {
      const reply = (await this.#router.execute('scan', [cursor, ...this.#opts.tail], BUFFER_REPLY, { node })) as [Buffer, Buffer[]];
      cursor = reply[0].toString();
      for (const key of reply[1]) {
        // Keys are hashed as raw bytes: a key that is not valid UTF-8 keeps its real slot.
        if (covered[slotOf(key)] === 1) continue;
        this.#keys++;
        yield key.toString();
      }
    } while (cursor !== '0');
    const after = parseSelfView(await this.#router.execute('cluster', ['nodes'], {}, { node }));
    return stableSlots(before, after);
  }
}

/** `0-99, 5000, …` for an error message. */
function describeSlots(covered: Uint8Array): string {
  const out: string[] = [];
  for (let s = 0; s < SLOT_COUNT && out.length < 6; s++) {
    if (covered[s] === 1) continue;
    let e = s;
    while (e + 1 < SLOT_COUNT && covered[e + 1] === 0) e++;
    out.push(s === e ? String(s) : `${s}-${e}`);
    s = e;
  }
  return out.join(', ') + (out.length === 6 ? ', …' : '');
}
