/** Settled entries the queue may hold (beyond 4 × the live ones) before it compacts. */
export const SETTLED_SLACK = 256;

/** Something with a deadline that may settle before it. */
export interface Expirable {
  readonly deadline: number;
  readonly settled: boolean;
  expire(): void;
}

/**
 * Deadlines of many in-flight commands checked by ONE unref'd interval
 * instead of one timer per command. Commands sharing the default timeout
 * arrive in deadline order, so only the head of the queue is ever looked at;
 * settled entries are skipped, and the queue is compacted when settled
 * entries dominate (so a single stuck command cannot pin the memory of every
 * command that settled behind it).
 *
 * A settled entry still in the array keeps its whole request alive (command,
 * arguments, value, callbacks: ~1.7 KB for a 100-byte SET), and a forced GC
 * cannot free it. With 1,024 (or, behind the head, 4,096) of them allowed,
 * the soak's retained heap swung by up to ~3 MB between samples; the slack is
 * now {@link SETTLED_SLACK}, at the cost of one pass over ~300 entries per
 * ~250 settled commands.
 */
export class DeadlineQueue<T extends Expirable> {
  #items: T[] = [];
  #head = 0;
  #live = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #tickMs: number;
  #onIdle: (() => void) | undefined;

  constructor(tickMs: number) {
    this.#tickMs = tickMs;
  }

  /** Entries not yet settled. */
  get live(): number {
    return this.#live;
  }

  /** Entries the queue holds references to, settled or not (for memory checks). */
  get held(): number {
    return this.#items.length;
  }

  /** Adds an entry whose deadline is ≥ every deadline already queued. */
  push(item: T): void {
    this.#items.push(item);
    this.#live++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(Date.now()), this.#tickMs);
      this.#timer.unref();
    }
  }

  /**
   * Counts an entry that keeps its own timer (a deadline other than the
   * default, so it would break the queue's order). It still counts as live.
   */
  count(): void {
    this.#live++;
  }

  /** Must be called once when an entry (pushed or counted) settles. */
  settled(): void {
    if (--this.#live === 0) {
      const idle = this.#onIdle;
      this.#onIdle = undefined;
      idle?.();
    } else if (this.#items.length > SETTLED_SLACK + 4 * this.#live) {
      this.#compact();
    }
  }

  /** Expires every due entry at the head. */
  sweep(now: number): void {
    const items = this.#items;
    let h = this.#head;
    while (h < items.length) {
      const item = items[h]!;
      if (item.settled) {
        h++;
        continue;
      }
      if (item.deadline > now) break;
      h++;
      item.expire();
    }
    this.#head = h;
    if (h === items.length) {
      this.#items = [];
      this.#head = 0;
      if (this.#live === 0) this.#stop();
    } else if (h > SETTLED_SLACK && h * 2 > items.length) {
      this.#items = items.slice(h);
      this.#head = 0;
    }
  }

  /** Resolves when no entry is live. */
  idle(): Promise<void> {
    if (this.#live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#onIdle;
      this.#onIdle = () => {
        prev?.();
        resolve();
      };
    });
  }

  /** Every live entry, oldest first (for shutdown). */
  liveEntries(): T[] {
    return this.#items.slice(this.#head).filter((i) => !i.settled);
  }

  #compact(): void {
    this.#items = this.#items.slice(this.#head).filter((i) => !i.settled);
    this.#head = 0;
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the interval (client closed). */
  close(): void {
    this.#stop();
  }
}
