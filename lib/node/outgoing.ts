import { Command } from 'ioredis';
import { InvalidArgumentError } from '../errors.js';

/** What ioredis hands reply transformers (the connection's protocol and reply mapping). */
export type ReplyContext = Parameters<Command['setReplyContext']>[0];

/**
 * A command as the lean write path carries it: the caller's own object (the
 * executor's Request) receives the reply — no ioredis Command, no promise
 * per attempt. ioredis' reply dispatcher calls `resolve(raw)` / `reject(err)`
 * on it in write order, exactly as it would on a Command in its queue.
 */
export interface Outgoing {
  /** Lower-case command name. */
  readonly name: string;
  /** Flat arguments: strings and Buffers only (see `flatArgs`). */
  readonly args: readonly unknown[];
  /** `utf8` converts Buffer replies to strings; null keeps Buffers. */
  readonly replyEncoding: 'utf8' | null;
  /** @internal Set by the writer: the connection's reply context, for reply transformers. */
  context: ReplyContext;
  /** @internal The decoder's raw reply (Buffers); convert with `convertReply`. */
  resolve(raw: unknown): void;
  /** @internal An error reply, a lost connection, or a command that could not be written. */
  reject(err: Error): void;
  /** @internal A value already converted (the command went through an ioredis Command). */
  replied(value: unknown): void;
}

type Transformer = (result: unknown, ctx: { commandName: string; protocol: number; replyMapping: string }) => unknown;
/** ioredis' reply transformers (hgetall → object, WITHSCORES pairs, XREAD, …): the same ones, applied the same way. */
const TRANSFORMERS = (Command as unknown as { _transformer: { reply: Record<string, Transformer | undefined> } })._transformer.reply;

/** A raw reply as an ioredis Command with this name and reply encoding would have resolved it. */
export function convertReply(o: Outgoing, raw: unknown): unknown {
  let v = o.replyEncoding === null ? raw : raw instanceof Buffer ? raw.toString() : typeof raw === 'object' && raw !== null ? toStrings(raw) : raw;
  const t = TRANSFORMERS[o.name];
  if (t !== undefined) {
    const c = o.context as { protocol?: number; replyMapping?: string } | null | undefined;
    v = t(v, { commandName: o.name, protocol: c?.protocol ?? 2, replyMapping: c?.replyMapping ?? 'legacy' });
  }
  return v;
}

/** Buffers to utf8 strings through arrays and plain objects (RESP3 maps), as ioredis' convertBufferToString does. */
function toStrings(value: unknown): unknown {
  if (value instanceof Buffer) return value.toString();
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toStrings(value[i]);
    return out;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = toStrings((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * Arguments flattened and stringified as ioredis' Command does: strings and
 * Buffers as they are, numbers as `String(n)` (integers beyond 2^53 by their
 * exact digits), bigints by their digits, arrays of those spread one level.
 * Anything else (the object forms of MSET/HSET, nested arrays, null …) takes
 * ioredis' own path, so the result is always what a Command would have sent. Copies: the caller's array is never
 * kept.
 */
export function flatArgs(name: string, args: readonly unknown[]): unknown[] {
  const n = args.length;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = plain(args[i]);
    if (v === undefined) return Array.isArray(args[i]) ? spreadArrays(name, args) : slowFlat(name, args);
    out[i] = v;
  }
  return out;
}

/** One argument as `flatArgs` sends it, or undefined when only ioredis' Command knows how (objects, Maps, …). */
function plain(a: unknown): string | Buffer | undefined {
  if (typeof a === 'string') return a;
  if (typeof a === 'number') return Number.isInteger(a) && !Number.isSafeInteger(a) ? BigInt(a).toString() : String(a);
  if (a instanceof Buffer) return a;
  if (typeof a === 'bigint') return String(a);
  return undefined;
}

/**
 * `mget(['a', 'b'])`, `del([k1, k2])`: arrays of plain values spread one
 * level, as ioredis' Command does (`args.flat()`), without building one —
 * that constructor was an eighth of a 100-key MGET's client CPU.
 */
function spreadArrays(name: string, args: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const a of args) {
    if (Array.isArray(a)) {
      for (const e of a) {
        const v = plain(e);
        if (v === undefined) return slowFlat(name, args);
        out.push(v);
      }
    } else {
      const v = plain(a);
      if (v === undefined) return slowFlat(name, args);
      out.push(v);
    }
  }
  return out;
}

function slowFlat(name: string, args: readonly unknown[]): unknown[] {
  const cmd = new Command(name, args as (string | Buffer | number)[]);
  // A throwing toString rejects the Command's own promise, which nobody awaits;
  // the unconverted argument then fails encoding, for this command only.
  cmd.promise.catch(() => undefined);
  return cmd.args;
}

/** The error a command gets when its arguments cannot be encoded (nothing of it was written). */
export function unencodable(name: string, err: unknown): InvalidArgumentError {
  const NAME = name.toUpperCase();
  let reason: string;
  try {
    reason = err instanceof Error ? err.message : String(err);
  } catch {
    reason = 'unknown error';
  }
  return new InvalidArgumentError(`${NAME} arguments`, `could not be encoded for Redis (${reason}); nothing was sent`, { command: NAME, cause: err });
}
