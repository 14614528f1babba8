import { backoffMs } from '../core/retry.js';
import { TimeoutError } from '../errors.js';

const MIN_DELAY_MS = 25;
const MAX_DELAY_MS = 2000;

/**
 * Single-flight "make it so" runner with jittered exponential backoff: `run()`
 * either starts the job or queues exactly one more pass behind the running
 * one; a pass that reports failure schedules another after a backoff delay,
 * which `now()` (e.g. on a topology change) cuts short.
 */
export class Reconciler {
  readonly #pass: () => Promise<boolean>;
  readonly #onError: (err: Error) => void;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;

  constructor(pass: () => Promise<boolean>, onError: (err: Error) => void) {
    this.#pass = pass;
    this.#onError = onError;
  }

  /** Runs a pass now (or right after the running one). */
  now(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      let ok = false;
      try {
        ok = await this.#pass();
      } catch (err) {
        this.#onError(err as Error);
      }
      if (this.#stopped) return;
      if (ok) {
        this.#failures = 0;
      } else if (!this.#again) {
        this.#timer = setTimeout(() => this.now(), backoffMs(this.#failures++, MIN_DELAY_MS, MAX_DELAY_MS));
        this.#timer.unref?.();
      }
    } while (this.#again && !this.#stopped);
  }
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `p`, or a TimeoutError after `ms` (the timer never keeps the process alive). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not complete within ${ms} ms`, ms)), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
