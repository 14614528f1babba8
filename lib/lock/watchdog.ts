import { performance } from 'node:perf_hooks';
import type { Script } from '../scripts/script.js';
import type { Lease } from './lease.js';
import { DueHeap } from './due-heap.js';

/**
 * One timer per client for every grant it holds: renews auto-extended
 * leases once `renewRatio` of them has elapsed, and declares any lease lost
 * when its local validity runs out without a confirmed renewal.
 *
 * Renewals due together are batched: one EXTEND script call per slot
 * (several grants), and the calls of one tick leave in the same event-loop
 * turn, so the client's auto-pipelining writes them to each node at once.
 *
 * Leases wait in a min-heap by their next due time (renewal or expiry), so
 * a tick costs O(k log n) for the k leases it handles, not O(n) for all n
 * held; adding or re-planning a lease is O(log n) and removing one O(1).
 */
export class Watchdog {
  readonly #extend: Script;
  /** Watched leases, each with the version of its one live heap entry. */
  readonly #leases = new Map<Lease, number>();
  readonly #heap = new DueHeap<Lease>();
  #version = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #ticks = 0;
  #examined = 0;

  constructor(extend: Script) {
    this.#extend = extend;
  }

  /** Counters: leases watched, heap entries (live + stale), ticks run and heap entries looked at by them. */
  get stats(): { watched: number; entries: number; ticks: number; examined: number } {
    return { watched: this.#leases.size, entries: this.#heap.size, ticks: this.#ticks, examined: this.#examined };
  }

  /** Starts watching a confirmed lease. */
  add(lease: Lease): void {
    this.#plan(lease);
    this.#arm();
  }

  /** Stops watching: no renewal is sent for it from now on. */
  delete(lease: Lease): void {
    if (!this.#leases.delete(lease)) return;
    // Its heap entry goes stale and is dropped when it surfaces (or by compaction).
    if (this.#leases.size === 0) {
      this.#heap.clear();
      this.#clear();
    } else if (this.#heap.size > 2 * this.#leases.size + 64) {
      this.#heap.retain((l, v) => this.#leases.get(l) === v);
    }
  }

  /**
   * Re-plans after a lease changed (extended by hand, autoExtend switched
   * on). With the lease, O(log n); without, every watched lease is re-planned.
   */
  changed(lease?: Lease): void {
    if (lease !== undefined) {
      if (this.#leases.has(lease)) this.#plan(lease);
    } else {
      for (const l of [...this.#leases.keys()]) this.#plan(l);
    }
    this.#arm();
  }

  /** When the watchdog must look at `l` next: its renewal, or its expiry while a renewal is on the wire. */
  static #due(l: Lease): number {
    return l.autoExtend && !l.renewing ? Math.min(l.validUntil, l.renewAt) : l.validUntil;
  }

  /** (Re)inserts `l` with its current due time; older entries of it become stale. */
  #plan(l: Lease): void {
    const v = ++this.#version;
    this.#leases.set(l, v);
    this.#heap.push(Watchdog.#due(l), l, v);
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Points the timer at the earliest live entry. */
  #arm(): void {
    while (this.#heap.size > 0 && this.#leases.get(this.#heap.peekItem()!) !== this.#heap.peekVersion()) this.#heap.pop();
    const next = this.#heap.size > 0 ? this.#heap.peekDue() : Infinity;
    if (next === Infinity) {
      this.#clear();
      return;
    }
    if (this.#timer && next >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.ceil(next - performance.now())));
    // Held locks must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#ticks++;
    const now = performance.now();
    const bySlot = new Map<number, Lease[]>();
    while (this.#heap.size > 0) {
      this.#examined++;
      const l = this.#heap.peekItem()!;
      if (this.#leases.get(l) !== this.#heap.peekVersion()) {
        this.#heap.pop(); // stale: released or re-planned since
        continue;
      }
      if (now >= l.validUntil) {
        this.#heap.pop();
        this.#leases.delete(l);
        l.onLost('expired', l.lastError);
        continue;
      }
      // Coalesce: renew what is due within a tenth of its lease in this batch.
      // Entries come in due order, so the first one not due ends the tick.
      const renewDue = l.autoExtend && !l.renewing && l.renewAt <= now + l.leaseMs / 10;
      if (!renewDue) break;
      this.#heap.pop();
      l.renewing = true;
      this.#plan(l); // now due at its expiry, in case the renewal never answers
      let group = bySlot.get(l.slot);
      if (!group) bySlot.set(l.slot, (group = []));
      group.push(l);
    }
    for (const group of bySlot.values()) this.#renew(group);
    this.#arm();
  }

  #renew(group: Lease[]): void {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const l of group) {
      keys.push(l.key);
      args.push(l.kind, l.owner, l.leaseMs);
    }
    const sentAt = performance.now();
    // A renewal slower than the time left to renew in is worthless: bound it.
    const timeoutMs = Math.max(50, Math.floor(Math.min(...group.map((l) => l.validUntil - sentAt))));
    this.#extend.run(keys, args, { timeoutMs }).then(
      (reply) => {
        const results = reply as number[];
        group.forEach((l, i) => {
          l.renewing = false;
          if (!this.#leases.has(l)) return; // released meanwhile
          if (Number(results[i]) === 1) {
            l.lastError = undefined;
            l.confirmed(sentAt);
            this.#plan(l);
          } else {
            this.#leases.delete(l);
            l.onLost('gone');
          }
        });
        this.#arm();
      },
      (err: unknown) => {
        for (const l of group) {
          l.renewing = false;
          l.lastError = err;
          // Try again soon; the validity deadline decides when to give up.
          l.renewAt = performance.now() + Math.max(20, Math.min(250, l.leaseMs / 10));
          if (this.#leases.has(l)) this.#plan(l);
        }
        this.#arm();
      },
    );
  }
}
