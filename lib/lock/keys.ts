import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { slotOf } from '../core/slots.js';

/** Longest lock name accepted (keys stay small; Redis itself would take more). */
export const MAX_NAME_LENGTH = 1024;

/**
 * Validates a lock name. Braces are refused because slotwise adds the hash
 * tag itself: `{name}` is what keeps every key of one lock in one slot, and a
 * brace inside the name would move the tag (or empty it, hashing each key
 * differently).
 */
export function checkName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(what, `expected a non-empty string, got ${describe(name)}`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(what, `expected at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  }
  if (name.includes('{') || name.includes('}')) {
    throw new InvalidArgumentError(what, `"${name}" contains a brace; slotwise wraps the name in a {hash tag} itself, so pass it without braces`);
  }
  return name;
}

/** Validates a key prefix (no braces, for the same reason as names). */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new InvalidArgumentError('keyPrefix', `expected a string, got ${describe(prefix)}`);
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new InvalidArgumentError('keyPrefix', `"${prefix}" contains a brace; the lock name becomes the hash tag`);
  }
  return prefix;
}

/**
 * The keys of one lock: `<prefix><kind>:{<name>}` and suffixes of it. They
 * all share the `{name}` hash tag, hence one slot.
 */
export class LockKeys {
  /** `<prefix><kind>:{<name>}`: the lock's own key. */
  readonly base: string;
  /** The hash slot every key of the lock is in. */
  readonly slot: number;
  constructor(prefix: string, kind: string, name: string) {
    this.base = `${prefix}${kind}:{${name}}`;
    this.slot = slotOf(this.base);
  }

  /** `<base>:<suffix>`, or the base itself without a suffix. */
  key(suffix?: string): string {
    return suffix === undefined ? this.base : `${this.base}:${suffix}`;
  }

  /** The sharded pub/sub channel announcing that the lock may be free. */
  get channel(): string {
    return `${this.base}:released`;
  }
}

/** A fresh owner id: 128 random bits, unguessable, unique per acquisition. */
export function newOwner(): string {
  return randomBytes(16).toString('hex');
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return typeof v;
}
