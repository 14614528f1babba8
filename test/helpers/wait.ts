/**
 * Polling for tests: wait for a condition with a deadline, never sleep a
 * guessed amount of time.
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. @default 10000 */
  timeoutMs?: number;
  /** Pause between checks. @default 25 */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

/**
 * Resolves with the first truthy value `condition` returns. Thrown errors
 * count as "not yet"; on timeout the last one is included in the message.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 25, what } = options;
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started >= timeoutMs) {
      const why = last instanceof Error ? `; last error: ${last.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
