/**
 * Input checks of the session store. Everything here runs before anything is
 * sent, so rejected input never writes to Redis.
 */
import { encode, type Serializer } from '../codec.js';
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
export function encodeAttributes(data: unknown, serializer: Serializer, argument: string, allowRemove: boolean): EncodedAttributes {
  if (!isAttributeBag(data)) throw new InvalidArgumentError(argument, `expected an object of attributes, got ${describeValue(data)}`);
  const pairs: string[] = [];
  const removed: string[] = [];
  for (const name of Object.keys(data)) {
    checkAttributeName(name, argument);
    const value = data[name];
    if (value === undefined) {
      if (allowRemove) removed.push(attributeField(name));
      continue;
    }
    let text: unknown;
    try {
      text = serializer.serialize(value);
    } catch {
      text = undefined;
    }
    // The label naming the attribute is built only on failure: encode() serializes once more and throws the error naming it.
    pairs.push(attributeField(name), typeof text === 'string' ? text : encode(serializer, value, `${argument} attribute "${name}"`));
  }
  return { pairs, removed };
}

/**
 * Hash field names of attributes (`a:<name>`), made once per name: the same
 * few names come with every save, and a fresh concatenation is a string to
 * allocate (and to flatten when it is written to the socket). Bounded, so
 * sessions with ever-new attribute names cannot grow it without limit.
 */
const FIELDS = new Map<string, string>();
const MAX_CACHED_FIELDS = 4096;

function attributeField(name: string): string {
  let field = FIELDS.get(name);
  if (field === undefined) {
    field = ATTRIBUTE + name;
    if (FIELDS.size < MAX_CACHED_FIELDS) FIELDS.set(name, field);
  }
  return field;
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
