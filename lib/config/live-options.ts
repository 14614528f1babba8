import { InvalidArgumentError } from '../errors.js';
import { resolveOptions, type ClusterClientOptions, type ResolvedOptions } from '../options.js';

/**
 * Options a configuration source may change in a running client. Every
 * component reads these from the one options object at the moment it needs
 * them, so a change applies to the next command (`readFrom`,
 * `commandTimeoutMs`, retries, `circuitBreaker.failFast`) or the next
 * refresh/connection. Breaker thresholds and pool sizes are read when a node
 * handle is created: they apply to nodes the client meets after the change.
 */
export const LIVE_OPTIONS = Object.freeze([
  'readFrom',
  'commandTimeoutMs',
  'connectTimeoutMs',
  'retryBaseDelayMs',
  'retryMaxDelayMs',
  'retryMaybeSentWrites',
  'topologyRefreshIntervalMs',
  'degradedRefreshIntervalMs',
  'minRefreshGapMs',
  'topologyQueryTimeoutMs',
  'circuitBreaker',
  'pool',
] as const);

const LIVE = new Set<string>(LIVE_OPTIONS);

/** A mutable copy of resolved options (nested groups too), for a client whose settings are live. */
export function thawOptions(o: ResolvedOptions): ResolvedOptions {
  return { ...o, circuitBreaker: { ...o.circuitBreaker }, pool: { ...o.pool } };
}

/**
 * Validates `doc` over the client's constructor options with the same
 * resolver, then copies the live options into `live` in place. Throws
 * InvalidArgumentError naming the field (nothing is changed then). Returns
 * the options whose value changed. A key dropped from the document returns
 * to its constructor value.
 */
export function applyConfigDocument(input: ClusterClientOptions, live: ResolvedOptions, doc: Readonly<Record<string, unknown>>, source: string): string[] {
  for (const key of Object.keys(doc)) {
    if (!LIVE.has(key)) {
      throw new InvalidArgumentError(`config document ${source}: "${key}"`, `this option cannot change at runtime; live options: ${LIVE_OPTIONS.join(', ')}`);
    }
  }
  for (const group of ['circuitBreaker', 'pool'] as const) {
    const v = doc[group];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
      throw new InvalidArgumentError(`config document ${source}: ${group}`, `expected an object, got ${JSON.stringify(v)}`);
    }
  }
  const merged = {
    ...input,
    ...doc,
    circuitBreaker: { ...input.circuitBreaker, ...(doc.circuitBreaker as object | undefined) },
    pool: { ...input.pool, ...(doc.pool as object | undefined) },
  } as ClusterClientOptions;
  let next: ResolvedOptions;
  try {
    next = resolveOptions(merged);
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(`config document ${source}: ${err.argument}`, err.message.replace(/^Invalid [^:]*: /, ''), { cause: err });
    }
    throw err;
  }
  const target = live as unknown as Record<string, unknown>;
  const changed: string[] = [];
  for (const key of LIVE_OPTIONS) {
    if (key === 'circuitBreaker' || key === 'pool') {
      const group = target[key] as Record<string, unknown>;
      for (const [k, v] of Object.entries(next[key])) {
        if (group[k] !== v) {
          group[k] = v;
          changed.push(`${key}.${k}`);
        }
      }
    } else if (target[key] !== next[key]) {
      target[key] = next[key];
      changed.push(key);
    }
  }
  return changed;
}
