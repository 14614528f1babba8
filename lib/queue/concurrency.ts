/**
 * The worker's concurrency budget. Readers only read while fewer than
 * `size` deliveries are held (running or waiting to run); several readers
 * blocked at once may together receive a few more than that, which wait in
 * FIFO order — better than one reader holding the budget while it blocks on
 * an empty partition and starving the others.
 */
export class ConcurrencyLimiter<T> {
  readonly size: number;
  readonly #run: (item: T) => Promise<void>;
  readonly #waiting: T[] = [];
  readonly #waiters: (() => void)[] = [];
  #running = 0;

  constructor(size: number, run: (item: T) => Promise<void>) {
    this.size = size;
    this.#run = run;
  }

  /** Deliveries held: running plus waiting to run. */
  get held(): number {
    return this.#running + this.#waiting.length;
  }

  /** How many more could be taken on now. */
  get room(): number {
    return Math.max(0, this.size - this.held);
  }

  /** Resolves once there is room (at once if there is), or when `signal` aborts. */
  async roomAvailable(signal: AbortSignal): Promise<void> {
    while (this.room === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          const i = this.#waiters.indexOf(done);
          if (i !== -1) this.#waiters.splice(i, 1);
          resolve();
        };
        this.#waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Runs `item` now if a slot is free, else queues it behind the others. */
  push(item: T): void {
    this.#waiting.push(item);
    this.#pump();
  }

  /** Removes and returns everything not started yet (a closing worker gives them back). */
  drainWaiting(): T[] {
    const items = this.#waiting.splice(0);
    this.#notify();
    return items;
  }

  #pump(): void {
    while (this.#running < this.size && this.#waiting.length > 0) {
      const item = this.#waiting.shift()!;
      this.#running++;
      void this.#run(item).finally(() => {
        this.#running--;
        this.#pump();
        this.#notify();
      });
    }
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
