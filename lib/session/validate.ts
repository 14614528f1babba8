/**
 * Input checks of the session store. Everything here runs before anything is
 * sent, so rejected input never writes to Redis.
 */
import { InvalidArgumentError } from '../errors.js';
import { ATTRIBUTE } from './keys.js';

/** Longest session id accepted. */
export const MAX_ID_LENGTH = 256;
/** Longest user id accepted. */
export const MAX_USER_ID_LENGTH = 512;
/** Longest attribute name accepted. */
export const MAX_ATTRIBUTE_NAME_LENGTH = 1024;
/** Longest TTL accepted (about 10 years). */
export const MAX_TTL_MS = 10 * 365 * 86_400_000;

// Printable ASCII without space, `{` and `}`: braces would move the hash tag
// out of the id, and with it the slot every key of the session must share.
const ID_PATTERN = /^[\x21-\x7a\x7c\x7e]+$/;

/** Converts one attribute value to the string stored in its hash field. */
export interface AttributeSerializer {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

export function checkId(id: unknown, argument = 'session id'): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(argument, `expected a non-empty string, got ${describeValue(id)}`);
  if (id.length > MAX_ID_LENGTH) throw new InvalidArgumentError(argument, `expected at most ${MAX_ID_LENGTH} characters, got ${id.length}`);
  if (!ID_PATTERN.test(id)) {
    throw new InvalidArgumentError(argument, `expected printable ASCII without spaces, "{" or "}" (braces would change the key's hash slot), got ${describeValue(id)}`);
  }
  return id;
}

export function checkUserId(userId: unknown, argument = 'userId'): string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError(argument, `expected a non-empty string, got ${describeValue(userId)}`);
  }
  if (userId.length > MAX_USER_ID_LENGTH) {
    throw new InvalidArgumentError(argument, `expected at most ${MAX_USER_ID_LENGTH} characters, got ${userId.length}`);
  }
  return userId;
}

/** A positive TTL in whole milliseconds (fractions round up). */
export function checkTtl(ms: unknown, argument: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_TTL_MS) {
    throw new InvalidArgumentError(argument, `expected a number of milliseconds > 0 and ≤ ${MAX_TTL_MS}, got ${describeValue(ms)}`);
  }
  return Math.ceil(ms);
}

export function checkVersion(v: unknown, argument = 'expectedVersion'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new InvalidArgumentError(argument, `expected a positive integer from a previous read, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * An object whose own enumerable properties are the attributes. express-session
 * hands over a Session instance, so any class is fine, except containers whose
 * content JSON would silently drop (Map, Set) or that are not attribute bags.
 */
function isAttributeBag(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  return !(v instanceof Map || v instanceof Set || v instanceof Date || ArrayBuffer.isView(v) || v instanceof Promise);
}

function checkAttributeName(name: string, argument: string): void {
  if (name.length === 0 || name.length > MAX_ATTRIBUTE_NAME_LENGTH) {
    throw new InvalidArgumentError(`${argument} attribute name`, `expected 1 to ${MAX_ATTRIBUTE_NAME_LENGTH} characters, got ${name.length}`);
  }
  if (name === '__proto__') throw new InvalidArgumentError(`${argument} attribute name`, 'expected a name other than "__proto__"');
}

/**
 * JSON that fails loudly instead of silently dropping or mangling values:
 * functions, symbols, BigInts, NaN/Infinity, Map, Set and cycles are rejected
 * with the path of the offending value. A plain walk first, then the native
 * JSON.stringify: about twice as fast as a replacer function.
 */
export const strictJson: AttributeSerializer = {
  stringify(value: unknown): string {
    if (value === undefined) throw new TypeError('the value is undefined, which JSON cannot store');
    checkJson(value, [], []);
    return JSON.stringify(value);
  },
  parse(text: string): unknown {
    return JSON.parse(text);
  },
};

function where(path: readonly string[]): string {
  return path.length === 0 ? 'the value' : `"${path.join('.')}"`;
}

function checkJson(v: unknown, path: string[], ancestors: object[]): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${where(path)} is ${v}, which JSON cannot store`);
      return;
    case 'object': {
      if (v === null) return;
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return checkJson((toJSON as (key: string) => unknown).call(v, path[path.length - 1] ?? ''), path, ancestors);
      if (v instanceof Map || v instanceof Set) throw new TypeError(`${where(path)} is a ${v.constructor.name}, which JSON stores as {}`);
      if (ancestors.includes(v)) throw new TypeError(`${where(path)} refers back to an enclosing object (a cycle)`);
      ancestors.push(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          path.push(String(i));
          checkJson(v[i], path, ancestors);
          path.pop();
        }
      } else {
        for (const key of Object.keys(v)) {
          path.push(key);
          checkJson((v as Record<string, unknown>)[key], path, ancestors);
          path.pop();
        }
      }
      ancestors.pop();
      return;
    }
    default:
      throw new TypeError(`${where(path)} is a ${typeof v}, which JSON cannot store`);
  }
}

/** Hash fields to set and remove for a set of attributes. */
export interface EncodedAttributes {
  /** field, value, field, value, … (fields carry the `a:` prefix). */
  readonly pairs: string[];
  /** Fields to remove: attributes whose value was `undefined`. */
  readonly removed: string[];
}

/**
 * Encodes every attribute with `serializer`, or throws InvalidArgumentError
 * naming the attribute. `undefined` values mean "remove" when `allowRemove`,
 * otherwise they are skipped (as JSON would).
 */
export function encodeAttributes(data: unknown, serializer: AttributeSerializer, argument: string, allowRemove: boolean): EncodedAttributes {
  if (!isAttributeBag(data)) throw new InvalidArgumentError(argument, `expected an object of attributes, got ${describeValue(data)}`);
  const pairs: string[] = [];
  const removed: string[] = [];
  for (const name of Object.keys(data)) {
    checkAttributeName(name, argument);
    const value = data[name];
    if (value === undefined) {
      if (allowRemove) removed.push(ATTRIBUTE + name);
      continue;
    }
    let text: unknown;
    try {
      text = serializer.stringify(value);
    } catch (err) {
      throw new InvalidArgumentError(`${argument} attribute "${name}"`, `cannot be serialized: ${(err as Error).message}`, { cause: err });
    }
    if (typeof text !== 'string') {
      throw new InvalidArgumentError(`${argument} attribute "${name}"`, `the serializer returned ${describeValue(text)} instead of a string`);
    }
    pairs.push(ATTRIBUTE + name, text);
  }
  return { pairs, removed };
}

/** Short description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}
