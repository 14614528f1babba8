import { InvalidArgumentError } from './errors.js';

/** Turns values into the strings stored in Redis and back (queue payloads, topic messages). */
export interface Serializer<T = unknown> {
  /** The string stored for `value`. */
  serialize(value: T): string;
  /** The value a stored string stands for; throws on text it cannot read. */
  deserialize(text: string): T;
}

/**
 * JSON, strict: values JSON would silently drop or change (undefined, functions,
 * symbols, BigInt, NaN/Infinity, Map/Set, cycles) are rejected with an error
 * naming where they are, instead of arriving as something else.
 */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  serialize(value: unknown): string {
    let text: string | undefined;
    let failure: unknown;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      failure = err; // a cycle or a BigInt: the walk below names where
    }
    // Once JSON.stringify succeeded there is no cycle, so the walk needs no set of visited objects.
    const problem = jsonProblem(value, 'value', text === undefined ? new Set() : undefined);
    if (problem) throw new Error(problem);
    if (text === undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    return text;
  },
  deserialize(text: string): unknown {
    return JSON.parse(text) as unknown;
  },
});

/** Validates a `serializer` option: undefined → JSON. */
export function resolveSerializer<T>(s: Serializer<T> | undefined, what: string): Serializer<T> {
  if (s === undefined) return jsonSerializer as Serializer<T>;
  if (s === null || typeof s !== 'object' || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function') {
    throw new InvalidArgumentError(what, 'expected an object with serialize(value) → string and deserialize(text) → value');
  }
  return s;
}

/** Serializes with `s`; any failure becomes InvalidArgumentError(argument). */
export function encode<T>(s: Serializer<T>, value: T, argument: string): string {
  let text: unknown;
  try {
    text = s.serialize(value);
  } catch (err) {
    throw new InvalidArgumentError(argument, `cannot be serialized: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  if (typeof text !== 'string') throw new InvalidArgumentError(argument, `the serializer returned ${typeof text}, expected a string`);
  return text;
}

function jsonProblem(v: unknown, path: string, seen: Set<object> | undefined): string | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : `${path} is ${v}, which JSON turns into null`;
    case 'undefined':
      return `${path} is undefined, which JSON cannot represent`;
    case 'bigint':
      return `${path} is a BigInt, which JSON cannot represent (convert it to a string)`;
    case 'function':
    case 'symbol':
      return `${path} is a ${typeof v}, which JSON cannot represent`;
  }
  if (v === null) return undefined;
  const o = v as object;
  if (typeof (o as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (o instanceof Map || o instanceof Set || o instanceof WeakMap || o instanceof WeakSet) {
    return `${path} is a ${o.constructor.name}, which JSON turns into {} (convert it to an array or object)`;
  }
  if (seen !== undefined) {
    if (seen.has(o)) return `${path} is a circular reference`;
    seen.add(o);
  }
  // Paths are built only for a value that has a problem: this walk runs on every write.
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const child: unknown = o[i];
      if (isPlainJson(child)) continue;
      const p = child === undefined ? undefined : jsonProblem(child, `${path}[${i}]`, seen);
      if (p) return p;
    }
  } else {
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i++) {
      const child = (o as Record<string, unknown>)[keys[i]!];
      // JSON drops undefined properties on purpose; that is a common, harmless idiom.
      if (child === undefined || isPlainJson(child)) continue;
      const p = jsonProblem(child, `${path}.${keys[i]}`, seen);
      if (p) return p;
    }
  }
  seen?.delete(o);
  return undefined;
}

/** A leaf JSON stores as it is (checked inline so the walk skips building its path). */
function isPlainJson(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v));
}
