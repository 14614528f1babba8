/**
 * Where a blocking command carries its timeout, so that a command re-issued
 * on a new owner (its slot moved while it waited) blocks only for the time
 * that is left.
 */
export interface BlockSpec {
  /** Argument index of the timeout. */
  readonly index: number;
  /** Seconds (BLPOP family, may be fractional) or milliseconds (XREAD BLOCK). */
  readonly unit: 's' | 'ms';
  /** The requested block time in ms; 0 = forever. */
  readonly blockMs: number;
}

const LAST_ARG_SECONDS = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'bzpopmin', 'bzpopmax']);
const FIRST_ARG_SECONDS = new Set(['blmpop', 'bzmpop']);
const BLOCK_OPTION = new Set(['xread', 'xreadgroup']);
/** Block on the connection's own replication state: meaningless on a borrowed connection. */
export const CONNECTION_BOUND_WAITS = new Set(['wait', 'waitaof']);

/**
 * The block spec of a call, or undefined when this call does not block
 * (XREAD without BLOCK is an ordinary read and stays on the shared connection).
 */
export function blockSpec(name: string, args: readonly unknown[]): BlockSpec | undefined {
  if (LAST_ARG_SECONDS.has(name)) return seconds(args, args.length - 1);
  if (FIRST_ARG_SECONDS.has(name)) return seconds(args, 0);
  if (BLOCK_OPTION.has(name)) {
    for (let i = 0; i < args.length - 1; i++) {
      const a = args[i];
      const token = typeof a === 'string' ? a : Buffer.isBuffer(a) ? a.toString() : '';
      if (token.toUpperCase() === 'STREAMS') return undefined;
      if (token.toUpperCase() === 'BLOCK') {
        const ms = Number(String(args[i + 1]));
        return { index: i + 1, unit: 'ms', blockMs: Number.isFinite(ms) && ms > 0 ? ms : 0 };
      }
    }
    return undefined;
  }
  return undefined;
}

function seconds(args: readonly unknown[], index: number): BlockSpec | undefined {
  if (index < 0 || index >= args.length) return undefined;
  const s = Number(String(args[index]));
  return { index, unit: 's', blockMs: Number.isFinite(s) && s > 0 ? Math.ceil(s * 1000) : 0 };
}

/** A copy of `args` blocking for `remainingMs` (≥ 1 ms) instead. */
export function withRemaining(args: readonly unknown[], spec: BlockSpec, remainingMs: number): unknown[] {
  const copy = [...args];
  const ms = Math.max(1, Math.ceil(remainingMs));
  copy[spec.index] = spec.unit === 'ms' ? String(ms) : (ms / 1000).toFixed(3);
  return copy;
}
