import { InvalidArgumentError } from '../errors.js';

/**
 * The one argument check at the API boundary. Every entry point that turns a
 * caller's input into a Redis command — typed methods, `call()`, `send()`,
 * pipelines, transactions, `watch()`, dedicated connections, node handles,
 * and through them every helper — asks `commandProblem()` before anything is
 * queued, so a rejected command never reaches a socket.
 *
 * What a command argument may be (documented in docs/10-errors.md):
 * - a string, a Buffer, a finite number (sent as ioredis sends it: `String(n)`,
 *   integers beyond 2^53 as their exact decimal digits) or a bigint (its
 *   decimal digits);
 * - an array of those, flattened one level, as ioredis does;
 * - the object / `Map` forms ioredis expands: `MSET`/`MSETNX` with one
 *   object or Map of key → value, `HSET`/`HMSET` with a key and one object or
 *   Map of field → value.
 * Anything else — undefined, null, booleans, symbols, functions, NaN/±Infinity,
 * plain objects, arrays nested deeper, typed arrays other than Buffer —
 * is rejected: ioredis would send it as "", "[object Object]", "Symbol(x)", …
 * and different garbage would silently become one key.
 *
 * Cost: the loop looks at `typeof` first and allocates nothing for valid
 * strings and numbers; only unusual arguments take the slow path.
 */

/** Commands whose single argument may be an object or Map of key → value (ioredis expands it). */
const WHOLE_OBJECT = new Set(['mset', 'msetnx']);
/** Commands whose second argument may be an object or Map of field → value. */
const KEY_AND_OBJECT = new Set(['hset', 'hmset']);

/**
 * Why `name args…` cannot be sent, as an InvalidArgumentError naming the
 * command, the argument's position (1-based, after the command name) and
 * what was given; undefined when it can. Never throws.
 */
export function commandProblem(name: unknown, args: readonly unknown[]): InvalidArgumentError | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return new InvalidArgumentError('command name', `expected a non-empty string such as 'get', got ${describeInput(name)}`);
  }
  if (!Array.isArray(args)) {
    return new InvalidArgumentError(`${name.toUpperCase()} arguments`, `expected an array of arguments, got ${describeInput(args)}`, { command: name.toUpperCase() });
  }
  try {
    for (let i = 0; i < args.length; i++) {
      const a: unknown = args[i];
      // The common case first: no call, no allocation.
      if (typeof a === 'string' || (typeof a === 'number' && a - a === 0)) continue;
      if (!isScalar(a)) return slowCheck(name, args);
    }
    return undefined;
  } catch (err) {
    // A getter or Proxy that throws while being read: reject, never crash.
    return new InvalidArgumentError(`${name.toUpperCase()} arguments`, `could not be read: ${messageOf(err)}`, { command: name.toUpperCase(), cause: err });
  }
}

/** Throws the problem `commandProblem()` finds (for synchronous entry points). */
export function assertCommand(name: unknown, args: readonly unknown[]): void {
  const problem = commandProblem(name, args);
  if (problem !== undefined) throw problem;
}

/**
 * Why per-call settings (`send(name, args, opts)`) cannot be used, or
 * undefined. `buffer` a boolean, `timeoutMs` a positive finite number,
 * `signal` an AbortSignal.
 */
export function execOptionsProblem(opts: unknown): InvalidArgumentError | undefined {
  if (opts === null || typeof opts !== 'object') return new InvalidArgumentError('command options', `expected an object { buffer?, timeoutMs?, signal? }, got ${describeInput(opts)}`);
  const o = opts as { buffer?: unknown; timeoutMs?: unknown; signal?: unknown };
  if (o.buffer !== undefined && typeof o.buffer !== 'boolean') return new InvalidArgumentError('buffer', `expected a boolean, got ${describeInput(o.buffer)}`);
  const t = o.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0) || t === Infinity)) {
    return new InvalidArgumentError('timeoutMs', `expected a positive number of milliseconds, got ${describeInput(t)}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) return new InvalidArgumentError('signal', `expected an AbortSignal, got ${describeInput(o.signal)}`);
  return undefined;
}

/** A single argument ioredis encodes faithfully. */
function isScalar(a: unknown): boolean {
  switch (typeof a) {
    case 'string':
      return true;
    case 'number':
      return a - a === 0;
    case 'bigint':
      return true;
    case 'object':
      // instanceof alone accepts Object.create(Buffer.prototype), which has no bytes.
      return a instanceof Buffer && ArrayBuffer.isView(a);
    default:
      return false;
  }
}

/** Full walk with ioredis' flattening rules; only reached when some argument is not a scalar. */
function slowCheck(name: string, args: readonly unknown[]): InvalidArgumentError | undefined {
  const lower = name.toLowerCase();
  let flatLength = 0;
  for (const a of args) flatLength += Array.isArray(a) ? (a as unknown[]).length : 1;
  let flatIndex = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (Array.isArray(a)) {
      for (let j = 0; j < a.length; j++, flatIndex++) {
        const p = elementProblem(lower, a[j], flatIndex, flatLength, `${i + 1}[${j}]`, true);
        if (p !== undefined) return problem(name, p.position, p.what);
      }
    } else {
      const p = elementProblem(lower, a, flatIndex++, flatLength, `${i + 1}`, false);
      if (p !== undefined) return problem(name, p.position, p.what);
    }
  }
  return undefined;
}

interface Found {
  readonly position: string;
  readonly what: string;
}

function elementProblem(lower: string, a: unknown, flatIndex: number, flatLength: number, position: string, nested: boolean): Found | undefined {
  if (isScalar(a)) return undefined;
  if (nested && Array.isArray(a)) return { position, what: 'an array inside an array (arguments are flattened one level only)' };
  const objectForm = (WHOLE_OBJECT.has(lower) && flatLength === 1 && flatIndex === 0) || (KEY_AND_OBJECT.has(lower) && flatLength === 2 && flatIndex === 1);
  if (objectForm && isFieldObject(a)) return entriesProblem(a as object, position);
  return { position, what: describeInput(a) + (objectForm ? ' (expected a plain object or Map of field → value)' : '') };
}

function isFieldObject(a: unknown): boolean {
  if (a instanceof Map) return true;
  if (a === null || typeof a !== 'object' || Array.isArray(a) || ArrayBuffer.isView(a)) return false;
  const proto = Object.getPrototypeOf(a) as unknown;
  return proto === Object.prototype || proto === null;
}

function entriesProblem(o: object, position: string): Found | undefined {
  if (o instanceof Map) {
    for (const [k, v] of o) {
      if (!isScalar(k)) return { position: `${position} (a Map key)`, what: describeInput(k) };
      if (!isScalar(v)) return { position: `${position} (the value of a Map entry)`, what: describeInput(v) };
    }
    return undefined;
  }
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k];
    if (!isScalar(v)) return { position: `${position}.${safeKey(k)}`, what: describeInput(v) };
  }
  return undefined;
}

function problem(name: string, position: string, what: string): InvalidArgumentError {
  const NAME = name.toUpperCase();
  return new InvalidArgumentError(`${NAME} argument ${position}`, `expected a string, Buffer or finite number, got ${what}`, { command: NAME });
}

/** What a rejected value is, without its content (arguments may be secrets). Never throws. */
export function describeInput(v: unknown): string {
  try {
    switch (typeof v) {
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return `a boolean (${v}); pass String(value) or 1/0`;
      case 'symbol':
        return 'a symbol';
      case 'function':
        return 'a function';
      case 'number':
        if (Number.isFinite(v)) return String(v);
        return `${v} (numbers must be finite${Number.isNaN(v) ? '' : "; a sorted-set score is written '+inf' / '-inf'"})`;
      case 'bigint':
        return 'a bigint';
      case 'string':
        return `a string of ${v.length} characters`;
    }
    if (v === null) return 'null';
    if (Array.isArray(v)) return `an array of ${v.length}`;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      const kind = v instanceof Buffer ? 'an unusable Buffer' : `a ${(v as object).constructor?.name ?? 'binary view'}`;
      return `${kind} (only real Buffers are sent as bytes: Buffer.from(view.buffer, view.byteOffset, view.byteLength))`;
    }
    if (v instanceof Buffer) return 'an unusable Buffer (an object with Buffer.prototype but no bytes)';
    if (v instanceof Map) return `a Map of ${v.size}`;
    const proto = Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null;
    if (proto === null || proto === Object.prototype) return 'a plain object';
    const ctor = proto.constructor?.name;
    return typeof ctor === 'string' && ctor.length > 0 ? `an object (${ctor})` : 'an object';
  } catch {
    return 'an unreadable value';
  }
}

function safeKey(k: string): string {
  return /^[A-Za-z_$][\w$]{0,40}$/.test(k) ? k : '[…]';
}

function messageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unknown error';
  }
}

/**
 * Commands whose number of keys is itself an argument (`numkeys`), by the
 * position of that argument. The key-position table (@ioredis/commands)
 * allocates one entry per announced key before looking at the arguments, so
 * `ZUNION 100000000 k` would make it build a hundred-million-entry array and
 * take the process down.
 */
const NUMKEYS_AT: ReadonlyMap<string, number> = new Map(Object.entries({
  zunionstore: 1, zinterstore: 1, zdiffstore: 1,
  eval: 1, evalsha: 1, eval_ro: 1, evalsha_ro: 1, fcall: 1, fcall_ro: 1, blmpop: 1, bzmpop: 1,
  sdiffcard: 0, sintercard: 0, sunioncard: 0, lmpop: 0, zunion: 0, zinter: 0, zmpop: 0, zintercard: 0, zdiff: 0, msetex: 0,
}));

/**
 * False when a command announces more keys than it has arguments (flattened,
 * lower-case name): such a command has no key positions to compute — the
 * server answers it with its own error.
 */
export function announcedKeysFit(name: string, flatArgs: readonly unknown[]): boolean {
  const at = NUMKEYS_AT.get(name);
  if (at === undefined) return true;
  const n = Number(flatArgs[at]);
  return n <= flatArgs.length;
}
