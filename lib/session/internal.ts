/**
 * Hooks between SessionStore and its framework adapters that are not public
 * API (the symbols are not exported from the package): raw reads and writes
 * of already-serialized attributes, so an adapter that keeps the stored
 * strings of a session (to compute deltas) never serializes twice.
 */
import { ATTRIBUTE } from './keys.js';
import type { EncodedAttributes } from './validate.js';

/** Hash field → stored string (see readRaw). */
export type RawFields = Readonly<Record<string, string>>;

/** True for the hash field of an attribute (`a:<name>`), false for metadata. */
export function isAttributeField(field: string): boolean {
  return field.startsWith(ATTRIBUTE);
}

/**
 * `store[readRaw](id)`: the session hash's fields as stored (attribute
 * fields carry the `a:` prefix; metadata fields are there too), or null when
 * the session does not exist. The object is the reply itself: read it, never
 * change it.
 */
export const readRaw = Symbol('slotwise.session.readRaw');

/** `store[writeEncoded](mode, id, attributes, opts)`: like upsert/patch with pre-encoded attributes. */
export const writeEncoded = Symbol('slotwise.session.writeEncoded');

export type EncodedWriteMode = 'upsert' | 'patch';

export interface EncodedWriteOptions {
  readonly ttlMs: number;
  /** undefined: unchanged; null: remove the owner. */
  readonly userId?: string | null;
}

export type { EncodedAttributes };
