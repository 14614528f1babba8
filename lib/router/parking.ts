import type { Request } from './request.js';

/**
 * Commands waiting to be retried: for a backoff delay, or (delay null) for
 * the first topology. Any topology change retries every one of them at once,
 * so a failover is acted on when it is seen, not after the next backoff step.
 * Bounded: `tryPark` refuses beyond `limit`.
 */
export class ParkingLot {
  readonly #parked = new Set<Request>();
  /** Requests a topology change must not wake: a stuck migration's MOVED patches are changes too, and would make it spin. */
  readonly #timerOnly = new WeakSet<Request>();
  readonly #limit: number;
  readonly #retry: (req: Request) => void;
  readonly #nextChange: () => Promise<void>;
  #watching = false;

  constructor(limit: number, retry: (req: Request) => void, nextChange: () => Promise<void>) {
    this.#limit = limit;
    this.#retry = retry;
    this.#nextChange = nextChange;
  }

  get size(): number {
    return this.#parked.size;
  }

  /** Parks `req` for `ms` (null: until a topology change; `wakeOnChange` false: only the timer ends it). False when full. */
  tryPark(req: Request, ms: number | null, wakeOnChange = true): boolean {
    if (this.#parked.size >= this.#limit) return false;
    this.#parked.add(req);
    if (wakeOnChange || ms === null) this.#timerOnly.delete(req);
    else this.#timerOnly.add(req);
    req.parked = ms === null ? null : setTimeout(() => this.#unpark(req), ms);
    this.#watch();
    return true;
  }

  /** Removes a request that settled while parked. */
  remove(req: Request): void {
    if (req.parked === undefined) return;
    this.#parked.delete(req);
    if (req.parked) clearTimeout(req.parked);
    req.parked = undefined;
  }

  /** Retries every parked request now. */
  wakeAll(): void {
    for (const req of [...this.#parked]) this.#unpark(req);
  }

  /** Parked requests, optionally only those waiting for the first topology. */
  list(onlyAwaitingTopology = false): Request[] {
    return [...this.#parked].filter((r) => !onlyAwaitingTopology || r.parked === null);
  }

  #unpark(req: Request): void {
    if (!this.#parked.has(req)) return;
    this.remove(req);
    this.#retry(req);
  }

  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    void this.#nextChange().then(() => {
      this.#watching = false;
      if (this.#parked.size === 0) return;
      for (const req of [...this.#parked]) if (!this.#timerOnly.has(req)) this.#unpark(req);
      if (this.#parked.size > 0) this.#watch();
    });
  }
}
