/**
 * Whole-store operations, correct on a cluster (the store reads the entries itself): keys are found with
 * `client.scanIterator` (every master, following reshards and failovers),
 * then read or deleted in groups of one slot each, so no command ever spans
 * two slots (connect-redis 7 on an ioredis Cluster sends one DEL with keys of
 * many slots: CROSSSLOT).
 */
import type { ClusterClient } from '../cluster-client.js';
import { slotOf } from '../core/slots.js';
import { mapLimit } from './concurrency.js';
import type { SessionKeys } from './keys.js';
import type { ResolvedSessionOptions } from './options.js';

/** Keys per UNLINK: bounded so one command never blocks a node for long. */
const DELETE_BATCH = 500;

export class SessionBulk {
  readonly #client: ClusterClient;
  readonly #keys: SessionKeys;
  readonly #options: ResolvedSessionOptions;

  constructor(
    client: ClusterClient,
    keys: SessionKeys,
    options: ResolvedSessionOptions,
  ) {
    this.#client = client;
    this.#keys = keys;
    this.#options = options;
  }

  /** Ids of every session hash on every master (SCAN may repeat a key; a Set dedupes). */
  async ids(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const key of this.#client.scanIterator({ match: this.#keys.sessionPattern, type: 'hash', count: this.#options.scanCount })) {
      const id = this.#keys.idOf(key);
      if (id !== undefined) ids.add(id);
    }
    return [...ids];
  }

  async length(): Promise<number> {
    return (await this.ids()).length;
  }

  /** Removes every key under the prefix; returns how many were removed. */
  async clear(): Promise<number> {
    const bySlot = new Map<number, Set<string>>();
    for await (const key of this.#client.scanIterator({ match: this.#keys.everythingPattern, count: this.#options.scanCount })) {
      const slot = slotOf(key);
      let keys = bySlot.get(slot);
      if (!keys) bySlot.set(slot, (keys = new Set()));
      keys.add(key);
    }
    const batches: string[][] = [];
    for (const keys of bySlot.values()) {
      const list = [...keys];
      for (let i = 0; i < list.length; i += DELETE_BATCH) batches.push(list.slice(i, i + DELETE_BATCH));
    }
    const removed = await mapLimit(batches, this.#options.bulkConcurrency, (batch) => this.#client.unlink(...batch));
    return removed.reduce((a, b) => a + Number(b), 0);
  }
}
