import { InvalidArgumentError } from '../errors.js';
import { jsonSerializer, resolveSerializer, type Serializer } from '../codec.js';
import { checkTtl, describeValue, MAX_TTL_MS } from './validate.js';

/** Options of `new SessionStore(client, options)`. */
export interface SessionStoreOptions {
  /**
   * Prefix of every key the store owns. Must not contain `{` or `}` (the
   * session id is the hash tag) and must not be shared with other data:
   * `clear()` removes every key starting with it.
   * @default 'sess:'
   */
  prefix?: string;
  /** Idle timeout: a session not written or touched for this long expires. @default 1800000 (30 min) */
  ttlMs?: number;
  /** Absolute lifetime from creation, however active the session is; 0 turns it off. @default 0 */
  absoluteTtlMs?: number;
  /**
   * How long `destroy()` leaves a tombstone that stops a save already in
   * flight (or a create with the same id) from bringing the session back.
   * @default 300000 (5 min)
   */
  tombstoneTtlMs?: number;
  /**
   * Longest a session write may take from the client to the server. User
   * index entries become removable only this long after the session's
   * expected expiry, so a write still in flight is never unindexed.
   * @default 10000
   */
  indexGraceMs?: number;
  /** Converts each attribute value to and from its stored string. @default jsonSerializer (strict JSON: rejects functions, BigInt, NaN, cycles, Map, Set) */
  serializer?: Serializer;
  /** Random bytes (from the CSPRNG) in a generated session id; at least 16 (128 bits). @default 18 */
  idBytes?: number;
  /** SCAN COUNT hint of bulk operations (`all`, `ids`, `length`, `clear`, `sweep`). @default 1000 */
  scanCount?: number;
  /** Commands bulk operations keep in flight at once. @default 64 */
  bulkConcurrency?: number;
  /** Run `sweep()` this often in the background (unref'd timer, stopped by `close()`); 0 turns it off. @default 0 */
  sweepIntervalMs?: number;
}

/** The default of every SessionStoreOptions field. */
export const SESSION_DEFAULTS = {
  prefix: 'sess:',
  ttlMs: 1_800_000,
  absoluteTtlMs: 0,
  tombstoneTtlMs: 300_000,
  indexGraceMs: 10_000,
  serializer: jsonSerializer,
  idBytes: 18,
  scanCount: 1000,
  bulkConcurrency: 64,
  sweepIntervalMs: 0,
} as const satisfies Required<SessionStoreOptions>;

/** SessionStoreOptions with every default filled in (`sessions.options`). */
export type ResolvedSessionOptions = Readonly<Required<SessionStoreOptions>>;

const KNOWN = new Set(Object.keys(SESSION_DEFAULTS));

function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `expected an integer from ${min} to ${max}, got ${describeValue(v)}`);
  }
  return v;
}

/** Merges over SESSION_DEFAULTS, validates every field and freezes. */
export function resolveSessionOptions(input: SessionStoreOptions = {}): ResolvedSessionOptions {
  if (input === null || typeof input !== 'object') throw new InvalidArgumentError('options', `expected an object, got ${describeValue(input)}`);
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`option "${key}"`, `unknown option; known options: ${[...KNOWN].sort().join(', ')}`);
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const o = { ...SESSION_DEFAULTS, ...defined } as Required<SessionStoreOptions>;
  if (typeof o.prefix !== 'string' || o.prefix.length === 0 || o.prefix.length > 200 || /[{}]/.test(o.prefix)) {
    throw new InvalidArgumentError('prefix', `expected 1 to 200 characters without "{" or "}", got ${describeValue(o.prefix)}`);
  }
  checkTtl(o.ttlMs, 'ttlMs');
  int('ttlMs', o.ttlMs, 1, MAX_TTL_MS);
  int('absoluteTtlMs', o.absoluteTtlMs, 0, MAX_TTL_MS);
  int('tombstoneTtlMs', o.tombstoneTtlMs, 1, MAX_TTL_MS);
  int('indexGraceMs', o.indexGraceMs, 0, 86_400_000);
  int('idBytes', o.idBytes, 16, 64);
  int('scanCount', o.scanCount, 1, 100_000);
  int('bulkConcurrency', o.bulkConcurrency, 1, 10_000);
  int('sweepIntervalMs', o.sweepIntervalMs, 0, 86_400_000);
  return Object.freeze({ ...o, serializer: resolveSerializer(o.serializer, 'serializer') });
}
