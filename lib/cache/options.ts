import { describe } from '../core/describe.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Client-side caching (server-assisted, invalidated by Redis' CLIENT
 * TRACKING). Off unless this option is given. See docs/19-client-side-cache.md.
 */
export interface ClientSideCacheOptions {
  /** Most entries kept; the least recently used go first. Required, ≥ 1. */
  maxEntries: number;
  /**
   * Most bytes kept (an estimate: key, arguments and reply sizes plus a fixed
   * per-entry overhead); the least recently used entries go first.
   * @default undefined (bounded by `maxEntries` only)
   */
  maxBytes?: number;
  /**
   * Longest time an entry is served, as a safety net on top of invalidation
   * (for example against a network partition that hides invalidations).
   * @default undefined (entries live until invalidated or evicted)
   */
  ttlMs?: number;
}

/** Cache options after validation. */
export interface ResolvedCacheOptions {
  /** {@inheritDoc ClientSideCacheOptions.maxEntries} */
  readonly maxEntries: number;
  /** {@inheritDoc ClientSideCacheOptions.maxBytes} */
  readonly maxBytes: number | undefined;
  /** {@inheritDoc ClientSideCacheOptions.ttlMs} */
  readonly ttlMs: number | undefined;
}

const KNOWN = new Set(['maxEntries', 'maxBytes', 'ttlMs']);

function positiveInt(name: string, v: unknown, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new InvalidArgumentError(`clientSideCache.${name}`, `expected an integer from 1 to ${max}, got ${describe(v)}`);
  }
}

/** Validates `clientSideCache`; undefined (the default) keeps the cache off. */
export function resolveCacheOptions(input: unknown): ResolvedCacheOptions | undefined {
  if (input === undefined) return undefined;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidArgumentError('clientSideCache', `expected an object { maxEntries, maxBytes?, ttlMs? }, got ${describe(input)}`);
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`option "clientSideCache.${key}"`, `unknown option; known: ${[...KNOWN].join(', ')}`);
  }
  const o = input as Partial<ClientSideCacheOptions>;
  positiveInt('maxEntries', o.maxEntries, 100_000_000);
  if (o.maxBytes !== undefined) positiveInt('maxBytes', o.maxBytes, Number.MAX_SAFE_INTEGER);
  if (o.ttlMs !== undefined) positiveInt('ttlMs', o.ttlMs, 2_147_483_647);
  return Object.freeze({ maxEntries: o.maxEntries!, maxBytes: o.maxBytes, ttlMs: o.ttlMs });
}
