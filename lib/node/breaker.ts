import CircuitBreaker from 'opossum';

/** A node's circuit breaker: `closed` passes commands, `open` fails them fast (CircuitOpenError) or parks them, `halfOpen` lets a probe through. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface NodeBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Time an open breaker waits before its half-open probe. */
  resetTimeoutMs: number;
  /** Deadline of the probe. */
  probeTimeoutMs: number;
  /** Called on every state change. */
  onStateChange: (state: BreakerState) => void;
}

/**
 * A per-node breaker on top of opossum's state machine. Ordinary commands do
 * not pass through `opossum.fire()` — that would cost a promise, a timer and
 * several events per command on the hot path. Instead the node reports
 * connection failures and timeouts here; after `failureThreshold` in a row the
 * breaker is opened, opossum's reset timer moves it to half-open, and one
 * `fire()` of the probe (a PING through a fresh connection) closes or re-opens it.
 */
export class NodeBreaker {
  readonly #cb: CircuitBreaker<[], unknown>;
  readonly #threshold: number;
  #failures = 0;
  /** Cached so the hot path reads a field, not opossum getters. */
  #state: BreakerState = 'closed';

  constructor(probe: () => Promise<unknown>, opts: NodeBreakerOptions) {
    this.#threshold = opts.failureThreshold;
    this.#cb = new CircuitBreaker(probe, {
      timeout: opts.probeTimeoutMs,
      resetTimeout: opts.resetTimeoutMs,
      // Our own failure counting decides when to open; opossum's rolling
      // percentage must never open it on the probe's behalf while closed.
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    const set = (state: BreakerState) => {
      if (this.#state === state) return;
      this.#state = state;
      opts.onStateChange(state);
    };
    this.#cb.on('open', () => set('open'));
    this.#cb.on('close', () => {
      this.#failures = 0;
      set('closed');
    });
    this.#cb.on('halfOpen', () => {
      set('halfOpen');
      // opossum waits for a caller to fire in half-open; the probe is that caller.
      this.#cb.fire().catch(() => undefined);
    });
  }

  /** True when commands may be sent (closed). */
  get allows(): boolean {
    return this.#state === 'closed';
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** A reply (any reply, errors included) arrived: the node is alive. */
  recordSuccess(): void {
    this.#failures = 0;
  }

  /** A connection failure or command timeout. */
  recordFailure(): void {
    if (this.#state !== 'closed') return;
    if (++this.#failures >= this.#threshold) this.#cb.open();
  }

  /** Stops timers; the breaker is unusable afterwards. */
  shutdown(): void {
    this.#cb.shutdown();
  }
}
