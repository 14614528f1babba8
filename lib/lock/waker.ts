/**
 * "Wake me when lock X may be free": waiters park here between tries.
 *
 * Every wait is bounded by a timeout (the polling fallback: a wake-up may
 * be lost, e.g. while a node fails over), and ends early when
 * - a release by this process is announced locally (`notify`), or
 * - a release anywhere is announced on the lock's sharded channel (the
 *   `WakeSource`: sharded pub/sub).
 */

/** Something that announces releases published on sharded channels. */
export interface WakeSource {
  /** Start delivering announcements of `channel` to `onWake`; returns the stop function. */
  watch(channel: string, onWake: () => void): () => void;
}

interface Waiter {
  readonly resolve: () => void;
}

interface ChannelWaiters {
  readonly waiters: Set<Waiter>;
  /** How many to wake per announcement: one when only one can win (mutex, semaphore). */
  mode: 'one' | 'all';
  stopWatching?: () => void;
}

export class Waker {
  readonly #channels = new Map<string, ChannelWaiters>();
  readonly #source: WakeSource | undefined;

  /** `source`: the cross-process announcements; without one, only local releases wake waiters. */
  constructor(source?: WakeSource) {
    this.#source = source;
  }

  /** Waiters currently parked (for tests and stats). */
  get waiting(): number {
    let n = 0;
    for (const e of this.#channels.values()) n += e.waiters.size;
    return n;
  }

  /**
   * Resolves after `ms`, when `channel` is announced, or when `signal`
   * aborts — whichever comes first. Never rejects: callers check the signal.
   * `mode` says how many waiters of this channel an announcement from
   * another process wakes.
   */
  wait(channel: string, ms: number, signal?: AbortSignal, mode: 'one' | 'all' = 'all'): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let entry = this.#channels.get(channel);
      if (entry === undefined) {
        const created: ChannelWaiters = { waiters: new Set(), mode };
        entry = created;
        this.#channels.set(channel, created);
        if (this.#source) created.stopWatching = this.#source.watch(channel, () => this.notify(channel, created.mode));
      }
      entry.mode = mode;
      const e = entry;
      const waiter: Waiter = { resolve: () => done() };
      const timer = setTimeout(() => done(), Math.max(0, ms));
      const onAbort = () => done();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (e.waiters.delete(waiter) && e.waiters.size === 0) {
          e.stopWatching?.();
          this.#channels.delete(channel);
        }
        resolve();
      };
      e.waiters.add(waiter);
    });
  }

  /**
   * Wakes waiters of `channel`: the longest-waiting one (`'one'`: only one
   * can win a mutex, the others would just try and park again) or all.
   */
  notify(channel: string, mode: 'one' | 'all'): void {
    const entry = this.#channels.get(channel);
    if (entry === undefined) return;
    if (mode === 'one') {
      const first = entry.waiters.values().next();
      if (!first.done) first.value.resolve();
      return;
    }
    for (const w of [...entry.waiters]) w.resolve();
  }
}
