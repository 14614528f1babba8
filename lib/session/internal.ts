/**
 * Hooks between SessionStore and its framework adapters that are not public
 * API (the symbols are not exported from the package): raw reads and writes
 * of already-serialized attributes, so an adapter that keeps the stored
 * strings of a session (to compute deltas) never serializes twice.
 */
import type { EncodedAttributes } from './validate.js';

/** `store[readRaw](id)`: attribute name → stored string, or null when absent. */
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
