/**
 * express-session adapter: `session({ store: new SlotwiseSessionStore({ client }) })`.
 *
 * Shipped as its own export path (`slotwise/express-session`) so that only
 * applications importing it need express-session installed (an optional peer
 * dependency of slotwise).
 *
 * Saves are per-attribute deltas: the store remembers (per Session object,
 * in a hidden symbol property) what it loaded, and a save writes only the attributes the
 * request changed. Two concurrent requests changing different attributes
 * therefore both persist, and a save of a loaded session never re-creates
 * it once destroyed or expired. See docs/08-sessions.md.
 * @module slotwise/express-session
 */
import { Store, type SessionData as ExpressSessionData } from 'express-session';
import type { Serializer } from '../codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { ClusterClient } from '../cluster-client.js';
import type { SessionStoreOptions } from './options.js';
import { isAttributeField, readRaw, writeEncoded, type RawFields } from './internal.js';
import { ATTRIBUTE } from './keys.js';
import { SessionStore } from './session-store.js';
import { describeValue, encodeAttributes } from './validate.js';

/** Options of `new SlotwiseSessionStore(options)`. */
export interface SlotwiseSessionStoreOptions extends Omit<SessionStoreOptions, 'ttlMs' | 'serializer'> {
  /** The cluster client to store sessions with. */
  client: ClusterClient;
  /**
   * Time to live of a session whose cookie has no expiry (a browser-session
   * cookie), or a function computing it from the session (overrides the cookie).
   * @default 86400000 (one day)
   */
  ttlMs?: number | ((session: ExpressSessionData) => number);
  /** Make `touch()` a no-op: sessions then expire `ttlMs` after their last save. @default false */
  disableTouch?: boolean;
  /**
   * Converts each top-level attribute to and from its stored string: a
   * slotwise `Serializer` (`serialize`/`deserialize`) or a connect-redis style
   * `{ stringify, parse }`.
   * @default jsonSerializer (strict JSON)
   */
  serializer?: Serializer | ConnectStyleSerializer;
  /** Owner of a session (for `sessions.listByUser()` / `destroyByUser()`), e.g. `(s) => s.userId`. @default undefined (no index) */
  userId?: (session: ExpressSessionData) => string | null | undefined;
}

/** The serializer shape connect-redis takes (`JSON` itself fits). */
export interface ConnectStyleSerializer {
  /** The string stored for `value`. */
  stringify(value: unknown): string;
  /** The value a stored string stands for. */
  parse(text: string): unknown;
}

type Callback<T> = ((err: unknown, value?: T) => void) | undefined;

/**
 * What a save compares against: the attribute fields (`a:<name>` → stored
 * string) and owner as loaded or last saved. After a load, `fields` is the
 * read's reply itself; after a save, the field/value pairs written, made a
 * lookup only when the session is saved again (most never are).
 */
interface Snapshot {
  fields: RawFields | readonly string[];
  userId: string | undefined;
}

const DEFAULT_TTL_MS = 86_400_000;

/** An express-session Store backed by a slotwise SessionStore on a Redis Cluster. */
export class SlotwiseSessionStore extends Store {
  /** The underlying store: `listByUser`, `destroyByUser`, `patch`, `sweep`, … */
  readonly sessions: SessionStore;
  /** {@inheritDoc SlotwiseSessionStoreOptions.disableTouch} */
  readonly disableTouch: boolean;
  readonly #ttl: number | ((session: ExpressSessionData) => number);
  readonly #serializer: Serializer;
  readonly #userId: ((session: ExpressSessionData) => string | null | undefined) | undefined;

  constructor(options: SlotwiseSessionStoreOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', `expected an object with a client, got ${describeValue(options)}`);
    const { client, ttlMs = DEFAULT_TTL_MS, disableTouch = false, serializer, userId, ...rest } = options;
    if (typeof ttlMs !== 'function' && (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)) {
      throw new InvalidArgumentError('ttlMs', `expected milliseconds > 0 or a function of the session, got ${describeValue(ttlMs)}`);
    }
    if (typeof disableTouch !== 'boolean') throw new InvalidArgumentError('disableTouch', `expected true or false, got ${describeValue(disableTouch)}`);
    if (userId !== undefined && typeof userId !== 'function') throw new InvalidArgumentError('userId', `expected a function of the session, got ${describeValue(userId)}`);
    this.sessions = new SessionStore(client, { ...rest, ...(serializer !== undefined ? { serializer: toSerializer(serializer) } : {}), ttlMs: typeof ttlMs === 'number' ? Math.ceil(ttlMs) : DEFAULT_TTL_MS });
    this.disableTouch = disableTouch;
    this.#ttl = ttlMs;
    this.#serializer = this.sessions.options.serializer;
    this.#userId = userId;
  }

  override get(sid: string, cb?: Callback<ExpressSessionData | null>): Promise<ExpressSessionData | null> {
    return settle(this.#get(sid), cb);
  }

  override set(sid: string, session: ExpressSessionData, cb?: Callback<void>): Promise<void> {
    return settle(this.#set(sid, session), cb);
  }

  override touch(sid: string, session: ExpressSessionData, cb?: Callback<void>): Promise<void> {
    return settle(this.#touch(sid, session), cb);
  }

  override destroy(sid: string, cb?: Callback<void>): Promise<void> {
    return settle(this.sessions.destroy(sid).then(() => undefined), cb);
  }

  /** Every session, as an array of session objects carrying their `id`. */
  override all(cb?: Callback<ExpressSessionData[]>): Promise<ExpressSessionData[]> {
    const p = this.sessions.all().then((entries) => entries.map((e) => ({ ...e.data, id: e.id }) as unknown as ExpressSessionData));
    return settle(p, cb);
  }

  override length(cb?: Callback<number>): Promise<number> {
    return settle(this.sessions.length(), cb);
  }

  override clear(cb?: Callback<void>): Promise<void> {
    return settle(this.sessions.clear().then(() => undefined), cb);
  }

  /** Ids of every live session (see `sessions.ids()`). */
  ids(cb?: Callback<string[]>): Promise<string[]> {
    return settle(this.sessions.ids(), cb);
  }

  /** Remembers what was loaded for the Session object express-session builds from it. */
  override createSession(req: Parameters<Store['createSession']>[0], data: ExpressSessionData): ReturnType<Store['createSession']> {
    const snapshot = snapshotOf(data);
    const session = super.createSession(req, data);
    if (snapshot) remember(session, snapshot);
    return session;
  }

  async #get(sid: string): Promise<ExpressSessionData | null> {
    const fields = await this.sessions[readRaw](sid);
    if (fields === null) return null;
    const data: Record<string, unknown> = {};
    for (const field in fields) {
      if (!isAttributeField(field)) continue;
      const name = field.slice(ATTRIBUTE.length);
      if (name !== '__proto__') data[name] = this.#serializer.deserialize(fields[field]!);
    }
    // The stored strings are the snapshot: a save compares against them without serializing the loaded values again.
    remember(data, { fields, userId: this.#owner(data) });
    return data as unknown as ExpressSessionData;
  }

  async #set(sid: string, session: ExpressSessionData): Promise<void> {
    const ttl = this.#ttlOf(session);
    if (ttl <= 0) {
      await this.sessions.destroy(sid);
      return;
    }
    const encoded = encodeAttributes(session, this.#serializer, 'session data', false);
    const userId = this.#owner(session);
    const previous = snapshotOf(session);
    // Never loaded: every attribute is written, as encoded.
    let pairs = encoded.pairs;
    const removed: string[] = [];
    if (previous) {
      pairs = [];
      const before = fieldsOf(previous);
      const all = encoded.pairs;
      for (let i = 0; i < all.length; i += 2) if (before[all[i]!] !== all[i + 1]) pairs.push(all[i]!, all[i + 1]!);
      // Gone: an attribute loaded (or saved) before that the session no longer has (encodeAttributes skips undefined values).
      const now = session as unknown as Record<string, unknown>;
      for (const field in before) {
        if (!isAttributeField(field)) continue;
        const name = field.slice(ATTRIBUTE.length);
        if (now[name] === undefined || !Object.prototype.propertyIsEnumerable.call(now, name)) removed.push(field);
      }
    }
    const owner = userId !== previous?.userId ? (userId ?? null) : undefined;
    let written: boolean;
    if (previous && pairs.length === 0 && removed.length === 0 && owner === undefined) {
      // Saved unchanged (resave): only the expiry moves. touch is update-only too, and leaves the version alone.
      written = await this.sessions.touch(sid, { ttlMs: ttl });
    } else {
      // Never loaded (express-session generated it): the first save creates it, unless a tombstone says it was destroyed.
      // Loaded: update-only, so a session destroyed (or expired) since it was loaded stays gone.
      written = await this.sessions[writeEncoded](previous ? 'patch' : 'upsert', sid, { pairs, removed }, { ttlMs: ttl, ...(owner !== undefined ? { userId: owner } : {}) });
    }
    // What is stored now: every attribute as encoded (the pairs, turned into a lookup only if this session is saved again).
    if (written) remember(session, { fields: encoded.pairs, userId });
  }

  async #touch(sid: string, session: ExpressSessionData): Promise<void> {
    if (this.disableTouch) return;
    const ttl = this.#ttlOf(session);
    if (ttl <= 0) await this.sessions.destroy(sid);
    else await this.sessions.touch(sid, { ttlMs: ttl });
  }

  /**
   * Milliseconds the session should live from now (≤ 0: already expired),
   * rounded up to whole seconds: the cookie's expiry moves by a few ms on
   * every request, and an unchanged idle timeout saves a write per touch.
   */
  #ttlOf(session: ExpressSessionData): number {
    const ms = this.#rawTtl(session);
    return ms <= 0 || !Number.isFinite(ms) ? ms : Math.ceil(ms / 1000) * 1000;
  }

  #rawTtl(session: ExpressSessionData): number {
    if (typeof this.#ttl === 'function') return this.#ttl(session);
    const cookie = session?.cookie as { expires?: Date | string | null; maxAge?: number | null } | undefined;
    if (cookie?.expires) return new Date(cookie.expires).getTime() - Date.now();
    if (typeof cookie?.maxAge === 'number') return cookie.maxAge;
    return this.#ttl;
  }

  #owner(data: object): string | undefined {
    const userId = this.#userId?.(data as ExpressSessionData);
    return userId === null || userId === undefined ? undefined : userId;
  }
}

/**
 * What a data object returned by get() — and then the Session express-session
 * builds from it — was when loaded or last saved. A non-enumerable symbol
 * property: invisible to Object.keys, for…in (so express-session does not copy
 * it), JSON and express-session's change hash. Cheaper than a WeakMap, whose
 * entries the garbage collector has to trace specially.
 */
const SNAPSHOT = Symbol('slotwise.session.snapshot');

function snapshotOf(o: object): Snapshot | undefined {
  return (o as { [SNAPSHOT]?: Snapshot })[SNAPSHOT];
}

function remember(o: object, snapshot: Snapshot): void {
  Object.defineProperty(o, SNAPSHOT, { value: snapshot, enumerable: false, writable: true, configurable: true });
}

/** The snapshot's fields as a lookup (field → stored string). */
function fieldsOf(snapshot: Snapshot): RawFields {
  const f = snapshot.fields;
  if (!Array.isArray(f)) return f as RawFields;
  const pairs = f as readonly string[];
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
  snapshot.fields = out;
  return out;
}

/** Accepts connect-redis's `{ stringify, parse }` as well as a slotwise Serializer. */
function toSerializer(s: Serializer | ConnectStyleSerializer): Serializer {
  const c = s as Partial<ConnectStyleSerializer> & Partial<Serializer>;
  if (c !== null && typeof c === 'object' && typeof c.serialize !== 'function' && typeof c.stringify === 'function' && typeof c.parse === 'function') {
    const { stringify, parse } = c as ConnectStyleSerializer;
    return { serialize: (v) => stringify.call(c, v), deserialize: (t) => parse.call(c, t) };
  }
  return s as Serializer; // validated by SessionStore
}

/** Calls back (outside the promise chain, so a throwing callback is not swallowed) or returns the promise. */
function settle<T>(p: Promise<T>, cb: Callback<T>): Promise<T> {
  if (typeof cb !== 'function') return p;
  // One reaction for both: the returned promise never rejects (the callback got the error).
  return p.then(
    (v) => {
      process.nextTick(cb, null, v);
      return v;
    },
    (err: unknown) => {
      process.nextTick(cb, err);
      return undefined as T;
    },
  );
}
