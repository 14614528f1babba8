import { describe } from '../core/describe.js';
import { InvalidArgumentError } from '../errors.js';

/** Options of `new RateLimiter(client, name, options)`. */
export interface RateLimiterOptions {
  /** Units granted per `periodMs` to one key at the sustained rate. Required; a positive integer. */
  limit: number;
  /** The period `limit` applies to (ms). Required; a positive integer. */
  periodMs: number;
  /**
   * Units an idle key may be granted at once. In any window of W ms one key
   * is granted at most `burst + W × limit / periodMs` units. Set it to 1 for
   * an evenly spaced rate with no burst at all.
   * @default limit
   */
  burst?: number;
  /** Prefix of every key (no braces). @default 'slotwise:' */
  keyPrefix?: string;
}

/** Options after defaults and validation. */
export type ResolvedRateLimiterOptions = Readonly<Required<RateLimiterOptions>>;

/** Per-call options of `RateLimiter.acquire()`. */
export interface RateAcquireOptions {
  /**
   * Longest time to wait for the units (ms). When the server says they
   * cannot be granted within it, `acquire()` rejects at once with
   * RateLimitedError instead of sleeping in vain. 0 = one try.
   * @default Infinity
   */
  waitMs?: number;
  /** Stops waiting when aborted: rejects with the signal's reason; nothing is granted. @default undefined (wait up to `waitMs`) */
  signal?: AbortSignal;
}

/** Longest limited key accepted. */
export const MAX_KEY_LENGTH = 1024;

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError(what, `expected a positive integer, got ${describe(v)}`);
  }
  return v;
}

function noBraces(v: unknown, what: string, allowEmpty: boolean): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0)) {
    throw new InvalidArgumentError(what, `expected a ${allowEmpty ? '' : 'non-empty '}string, got ${describe(v)}`);
  }
  if (v.length > MAX_KEY_LENGTH) throw new InvalidArgumentError(what, `expected at most ${MAX_KEY_LENGTH} characters, got ${v.length}`);
  if (v.includes('{') || v.includes('}')) {
    throw new InvalidArgumentError(what, `"${v}" contains a brace; slotwise wraps it in a {hash tag} itself, so pass it without braces`);
  }
  return v;
}

/** Validates the constructor's name. */
export function checkLimiterName(name: unknown): string {
  return noBraces(name, 'name', false);
}

/** Validates a limited key. */
export function checkLimitedKey(key: unknown): string {
  return noBraces(key, 'key', false);
}

/** Merges defaults, validates every field (cross-field too) and freezes. */
export function resolveRateLimiterOptions(opts: unknown): ResolvedRateLimiterOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw new InvalidArgumentError('options', `expected an object with limit and periodMs, got ${describe(opts)}`);
  }
  const o = opts as RateLimiterOptions;
  const limit = positiveInt(o.limit, 'limit');
  const periodMs = positiveInt(o.periodMs, 'periodMs');
  const burst = o.burst === undefined ? limit : positiveInt(o.burst, 'burst');
  const keyPrefix = o.keyPrefix === undefined ? 'slotwise:' : noBraces(o.keyPrefix, 'keyPrefix', true);
  // The script counts in server microseconds: an interval under 1 µs cannot be kept.
  if ((periodMs * 1000) / limit < 1) {
    throw new InvalidArgumentError('limit', `expected at most ${periodMs * 1000} per ${periodMs} ms (1 per µs), got ${limit}`);
  }
  return Object.freeze({ limit, periodMs, burst, keyPrefix });
}

/** Validates `n` (units of one check) against the burst. */
export function checkUnits(n: unknown, burst: number): number {
  const v = positiveInt(n, 'n');
  if (v > burst) throw new InvalidArgumentError('n', `expected at most the burst (${burst}) — more can never be granted at once, got ${v}`);
  return v;
}

/** Validates acquire()'s per-call options. */
export function resolveRateAcquire(opts: unknown): { waitMs: number; signal: AbortSignal | undefined } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('acquire options', `expected an object, got ${describe(opts)}`);
  }
  const o = (opts ?? {}) as RateAcquireOptions;
  const waitMs = o.waitMs ?? Infinity;
  if (typeof waitMs !== 'number' || Number.isNaN(waitMs) || waitMs < 0) {
    throw new InvalidArgumentError('waitMs', `expected a number ≥ 0 (or Infinity), got ${describe(waitMs)}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', `expected an AbortSignal, got ${describe(o.signal)}`);
  }
  return { waitMs, signal: o.signal };
}
