/**
 * The per-user index: one sorted set per user (`<prefix>user:{<userId>}`),
 * member = session id, score = the session's expected expiry (epoch ms) plus
 * `indexGraceMs`.
 *
 * The index lives in the user's slot, the sessions in their own slots, so no
 * single script can keep both in step. The rule that keeps them consistent:
 *
 * - The index is a SUPERSET of the truth. Whoever gives a session an owner
 *   adds it to that owner's index BEFORE writing the session. The session
 *   hash's owner (in its metadata field) is the truth; readers verify every entry.
 * - An entry is removed only when (a) the session was destroyed through the
 *   store (its tombstone stops any re-creation of the id), or (b) a check
 *   found it dead or owned by someone else AND its score was already in the
 *   past AND the score is still the one the check read. A write in flight has
 *   just set a score in the future, so it is never unindexed under it.
 *
 * Touches slide a session's expiry without writing the index; a sweep that
 * finds a due entry still alive re-scores it instead of removing it.
 */
import type { ClusterClient } from '../cluster-client.js';
import { mapLimit } from './concurrency.js';
import type { SessionKeys } from './keys.js';
import type { SessionScripts } from './scripts.js';

/** What `sweep()` did. */
export interface SweepResult {
  /** User indexes visited. */
  readonly indexes: number;
  /** Due entries checked against their session. */
  readonly checked: number;
  /** Entries removed (session expired, destroyed elsewhere or owned by another user). */
  readonly removed: number;
}

const DUE_BATCH = 500;

export class UserIndex {
  readonly #client: ClusterClient;
  readonly #keys: SessionKeys;
  readonly #scripts: SessionScripts;
  readonly #graceMs: number;
  readonly #scanCount: number;
  readonly #concurrency: number;

  constructor(client: ClusterClient, keys: SessionKeys, scripts: SessionScripts, opts: { graceMs: number; scanCount: number; concurrency: number }) {
    this.#client = client;
    this.#keys = keys;
    this.#scripts = scripts;
    this.#graceMs = opts.graceMs;
    this.#scanCount = opts.scanCount;
    this.#concurrency = opts.concurrency;
  }

  /** Adds (or re-scores) `id` in `userId`'s index; call before writing the session's owner. */
  async add(userId: string, id: string, ttlMs: number): Promise<void> {
    await this.#client.zadd(this.#keys.userIndex(userId), Date.now() + ttlMs + this.#graceMs, id);
  }

  /** Removes entries of sessions destroyed through the store (their tombstone bars re-creation). */
  async removeDestroyed(userId: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#client.zrem(this.#keys.userIndex(userId), ...ids);
  }

  /** Every entry of a user's index with its score. */
  async entries(userId: string): Promise<{ id: string; score: number }[]> {
    // RESP3 answers [[member, score], …], RESP2 a flat list.
    const flat = ((await this.#client.call('zrange', this.#keys.userIndex(userId), 0, -1, 'WITHSCORES')) as unknown[]).flat() as string[];
    const out: { id: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: String(flat[i]), score: Number(flat[i + 1]) });
    return out;
  }

  /**
   * Checks the due entries of one user's index and removes the dead ones
   * (conditionally, see the file comment). Returns [checked, removed].
   */
  async sweepUser(userId: string): Promise<[number, number]> {
    const index = this.#keys.userIndex(userId);
    let checked = 0;
    let removed = 0;
    // Bounded: every pass removes or re-scores (into the future) what it fetched.
    for (let pass = 0; pass < 1000; pass++) {
      const flat = (await this.#scripts.indexDue.run([index], [Date.now(), DUE_BATCH])) as string[];
      if (flat.length === 0) break;
      const due: { id: string; score: string }[] = [];
      for (let i = 0; i < flat.length; i += 2) due.push({ id: flat[i]!, score: String(flat[i + 1]) });
      const states = await mapLimit(due, this.#concurrency, (d) => this.#scripts.state.run([this.#keys.session(d.id)]) as Promise<[number, string]>);
      const args: string[] = [];
      due.forEach((d, i) => {
        const [pttl, owner] = states[i]!;
        const alive = Number(pttl) !== -2 && owner === userId;
        // A live session without expiry (PTTL -1) cannot be owned through the store; keep it far out.
        const next = alive ? String(Date.now() + (Number(pttl) > 0 ? Number(pttl) : 86_400_000) + this.#graceMs) : '-';
        args.push(d.id, d.score, next);
      });
      checked += due.length;
      removed += Number(await this.#scripts.indexPrune.run([index], args));
      if (flat.length / 2 < DUE_BATCH) break;
    }
    return [checked, removed];
  }

  /** One pass over every user index of the store (all masters). */
  async sweep(): Promise<SweepResult> {
    const users = new Set<string>();
    for await (const key of this.#client.scanIterator({ match: this.#keys.userIndexPattern, type: 'zset', count: this.#scanCount })) {
      const user = this.#keys.userOf(key);
      if (user !== undefined) users.add(user);
    }
    const results = await mapLimit([...users], Math.max(1, Math.floor(this.#concurrency / 8)), (u) => this.sweepUser(u));
    return {
      indexes: users.size,
      checked: results.reduce((n, [c]) => n + c, 0),
      removed: results.reduce((n, [, r]) => n + r, 0),
    };
  }
}
