import { performance } from 'node:perf_hooks';
import type { Script } from '../scripts/script.js';
import type { Lease } from './lease.js';

/**
 * One timer per client for every grant it holds: renews auto-extended
 * leases once `renewRatio` of them has elapsed, and declares any lease lost
 * when its local validity runs out without a confirmed renewal.
 *
 * Renewals due together are batched: one EXTEND script call per slot
 * (several grants), and the calls of one tick leave in the same event-loop
 * turn, so the client's auto-pipelining writes them to each node at once.
 */
export class Watchdog {
  readonly #extend: Script;
  readonly #leases = new Set<Lease>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(extend: Script) {
    this.#extend = extend;
  }

  /** Starts watching a confirmed lease. */
  add(lease: Lease): void {
    this.#leases.add(lease);
    this.#schedule();
  }

  /** Stops watching: no renewal is sent for it from now on. */
  delete(lease: Lease): void {
    if (!this.#leases.delete(lease)) return;
    if (this.#leases.size === 0) this.#clear();
  }

  /** Re-plans the timer after a lease changed (extended by hand, autoExtend switched on). */
  changed(): void {
    this.#schedule();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #schedule(): void {
    let next = Infinity;
    for (const l of this.#leases) {
      next = Math.min(next, l.validUntil);
      if (l.autoExtend && !l.renewing) next = Math.min(next, l.renewAt);
    }
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
    const now = performance.now();
    const bySlot = new Map<number, Lease[]>();
    for (const l of [...this.#leases]) {
      if (now >= l.validUntil) {
        this.#leases.delete(l);
        l.onLost('expired', l.lastError);
        continue;
      }
      // Coalesce: renew anything due within a tenth of its lease in this batch.
      if (l.autoExtend && !l.renewing && l.renewAt <= now + l.leaseMs / 10) {
        let group = bySlot.get(l.slot);
        if (!group) bySlot.set(l.slot, (group = []));
        group.push(l);
      }
    }
    for (const group of bySlot.values()) this.#renew(group);
    this.#schedule();
  }

  #renew(group: Lease[]): void {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const l of group) {
      l.renewing = true;
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
          } else {
            this.#leases.delete(l);
            l.onLost('gone');
          }
        });
        this.#schedule();
      },
      (err: unknown) => {
        for (const l of group) {
          l.renewing = false;
          l.lastError = err;
          // Try again soon; the validity deadline decides when to give up.
          l.renewAt = performance.now() + Math.max(20, Math.min(250, l.leaseMs / 10));
        }
        this.#schedule();
      },
    );
  }
}
