/**
 * Key layout of one session store. Everything of one session lives in the
 * slot of its id (hash tag `{id}`); a user's index lives in the slot of the
 * user id, which is in general NOT the slot of that user's sessions — see
 * docs/08-sessions.md for how the two stay consistent.
 *
 *   <prefix>{<id>}             hash: attributes (`a:<name>`) and metadata (`m`)
 *   <prefix>{<id>}:destroyed   string: tombstone left by destroy()
 *   <prefix>user:{<userId>}    sorted set: session ids of a user, scored by expected expiry
 */

/** Hash field prefix of session attributes. */
export const ATTRIBUTE = 'a:';

/**
 * The one metadata field of a session hash: `version|created|updated|idle|deadline|owner`
 * (epoch ms and ms; deadline empty when none; owner last, so it may contain `|`).
 * One field instead of six keeps every read reply and every script short.
 */
export const META_FIELD = 'm';

export interface SessionMeta {
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly idleMs: number;
  /** Absolute deadline, epoch ms, or undefined. */
  readonly deadline: number | undefined;
  /** Owner, or undefined. */
  readonly userId: string | undefined;
}

const META_PATTERN = /^(\d+)\|(\d*)\|(\d*)\|(\d+)\|(\d*)\|([\s\S]*)$/;

export function parseMeta(text: string | undefined): SessionMeta | undefined {
  const m = text === undefined ? null : META_PATTERN.exec(text);
  if (!m) return undefined;
  return {
    version: Number(m[1]),
    createdAt: Number(m[2]),
    updatedAt: Number(m[3]),
    idleMs: Number(m[4]),
    deadline: m[5] === '' ? undefined : Number(m[5]),
    userId: m[6] === '' ? undefined : m[6],
  };
}

/** The key names of one session store (`sessions.keys`): for operators and for scripts of your own. */
export class SessionKeys {
  /** The store's key prefix. */
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The hash holding session `id`. */
  session(id: string): string {
    return `${this.prefix}{${id}}`;
  }

  /** The tombstone `destroy()` leaves for session `id`. */
  tombstone(id: string): string {
    return `${this.prefix}{${id}}:destroyed`;
  }

  /** The sorted set indexing the sessions of `userId`. */
  userIndex(userId: string): string {
    return `${this.prefix}user:{${userId}}`;
  }

  /** The session id in a session key, or undefined for any other key. */
  idOf(key: string): string | undefined {
    if (!key.startsWith(`${this.prefix}{`) || !key.endsWith('}')) return undefined;
    return key.slice(this.prefix.length + 1, -1);
  }

  /** The user id in a user-index key, or undefined for any other key. */
  userOf(key: string): string | undefined {
    const head = `${this.prefix}user:{`;
    if (!key.startsWith(head) || !key.endsWith('}')) return undefined;
    return key.slice(head.length, -1);
  }

  /** SCAN pattern of session hashes only (tombstones end in `:destroyed`, not `}`). */
  get sessionPattern(): string {
    return `${globEscape(this.prefix)}{*}`;
  }

  /** SCAN pattern of user indexes. */
  get userIndexPattern(): string {
    return `${globEscape(this.prefix)}user:{*}`;
  }

  /** SCAN pattern of every key the store owns. */
  get everythingPattern(): string {
    return `${globEscape(this.prefix)}*`;
  }
}

/** Escapes the characters SCAN MATCH treats specially. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
