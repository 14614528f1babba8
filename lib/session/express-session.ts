/**
 * express-session adapter: `session({ store: new SlotwiseSessionStore({ client }) })`.
 *
 * Shipped as its own export path (`slotwise/express-session`) so that only
 * applications importing it need express-session installed (an optional peer
 * dependency of slotwise).
 *
 * Saves are per-attribute deltas: the store remembers (per Session object,
 * in a WeakMap) what it loaded, and a save writes only the attributes the
 * request changed. Two concurrent requests changing different attributes
 * therefore both persist, and a save of a loaded session never re-creates
 * it once destroyed or expired. See docs/08-sessions.md.
 */
import { Store, type SessionData as ExpressSessionData } from 'express-session';
import { InvalidArgumentError } from '../errors.js';
import type { ClusterClient } from '../index.js';
import type { SessionStoreOptions } from './options.js';
import { SessionStore, type SessionData } from './session-store.js';
import { describeValue, strictJson, type AttributeSerializer } from './validate.js';

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
  /** Converts each top-level attribute to and from its stored string. @default strict JSON */
  serializer?: AttributeSerializer;
  /** Owner of a session (for `sessions.listByUser()` / `destroyByUser()`), e.g. `(s) => s.userId`. @default undefined (no index) */
  userId?: (session: ExpressSessionData) => string | null | undefined;
}

type Callback<T> = ((err: unknown, value?: T) => void) | undefined;

/** What a save compares against: attribute strings and owner as loaded or last saved. */
interface Snapshot {
  attributes: Map<string, string>;
  userId: string | undefined;
}

const DEFAULT_TTL_MS = 86_400_000;

/** An express-session Store backed by a slotwise SessionStore on a Redis Cluster. */
export class SlotwiseSessionStore extends Store {
  /** The underlying store: `listByUser`, `destroyByUser`, `patch`, `sweep`, … */
  readonly sessions: SessionStore;
  readonly disableTouch: boolean;
  readonly #ttl: number | ((session: ExpressSessionData) => number);
  readonly #serializer: AttributeSerializer;
  readonly #userId: ((session: ExpressSessionData) => string | null | undefined) | undefined;
  /** Data objects returned by get(), until express-session turns them into a Session. */
  readonly #loaded = new WeakMap<object, Snapshot>();
  /** Session objects (req.session) → what they were when loaded or last saved. */
  readonly #snapshots = new WeakMap<object, Snapshot>();

  constructor(options: SlotwiseSessionStoreOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', `expected an object with a client, got ${describeValue(options)}`);
    const { client, ttlMs = DEFAULT_TTL_MS, disableTouch = false, serializer = strictJson, userId, ...rest } = options;
    if (typeof ttlMs !== 'function' && (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)) {
      throw new InvalidArgumentError('ttlMs', `expected milliseconds > 0 or a function of the session, got ${describeValue(ttlMs)}`);
    }
    if (typeof disableTouch !== 'boolean') throw new InvalidArgumentError('disableTouch', `expected true or false, got ${describeValue(disableTouch)}`);
    if (userId !== undefined && typeof userId !== 'function') throw new InvalidArgumentError('userId', `expected a function of the session, got ${describeValue(userId)}`);
    this.sessions = new SessionStore(client, { ...rest, serializer, ttlMs: typeof ttlMs === 'number' ? Math.ceil(ttlMs) : DEFAULT_TTL_MS });
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

  ids(cb?: Callback<string[]>): Promise<string[]> {
    return settle(this.sessions.ids(), cb);
  }

  /** Remembers what was loaded for the Session object express-session builds from it. */
  override createSession(req: Parameters<Store['createSession']>[0], data: ExpressSessionData): ReturnType<Store['createSession']> {
    const snapshot = this.#loaded.get(data);
    const session = super.createSession(req, data);
    if (snapshot) this.#snapshots.set(session, snapshot);
    return session;
  }

  async #get(sid: string): Promise<ExpressSessionData | null> {
    const data = await this.sessions.get(sid);
    if (data === null) return null;
    this.#loaded.set(data, this.#snapshot(data));
    return data as unknown as ExpressSessionData;
  }

  async #set(sid: string, session: ExpressSessionData): Promise<void> {
    const ttl = this.#ttlOf(session);
    if (ttl <= 0) {
      await this.sessions.destroy(sid);
      return;
    }
    const next = this.#snapshot(session);
    const previous = this.#snapshots.get(session);
    const owner = next.userId !== previous?.userId ? (next.userId ?? null) : undefined;
    if (previous === undefined) {
      // A session express-session generated (never loaded): its first save creates it, unless a tombstone says it was destroyed.
      const written = await this.sessions.upsert(sid, this.#plain(session), { ttlMs: ttl, ...(next.userId !== undefined ? { userId: next.userId } : {}) });
      if (written) this.#snapshots.set(session, next);
      return;
    }
    const delta: SessionData = {};
    for (const [name, text] of next.attributes) if (previous.attributes.get(name) !== text) delta[name] = (session as unknown as SessionData)[name];
    for (const name of previous.attributes.keys()) if (!next.attributes.has(name)) delta[name] = undefined;
    // Update-only: a session destroyed (or expired) since it was loaded stays gone.
    const written = await this.sessions.patch(sid, delta, { ttlMs: ttl, ...(owner !== undefined ? { userId: owner } : {}) });
    if (written) this.#snapshots.set(session, next);
  }

  async #touch(sid: string, session: ExpressSessionData): Promise<void> {
    if (this.disableTouch) return;
    const ttl = this.#ttlOf(session);
    if (ttl <= 0) await this.sessions.destroy(sid);
    else await this.sessions.touch(sid, { ttlMs: ttl });
  }

  /** Milliseconds the session should live from now (≤ 0: already expired). */
  #ttlOf(session: ExpressSessionData): number {
    if (typeof this.#ttl === 'function') return Math.ceil(this.#ttl(session));
    const cookie = session?.cookie as { expires?: Date | string | null; maxAge?: number | null } | undefined;
    if (cookie?.expires) return Math.ceil(new Date(cookie.expires).getTime() - Date.now());
    if (typeof cookie?.maxAge === 'number') return Math.ceil(cookie.maxAge);
    return this.#ttl;
  }

  /** Own enumerable attributes (a Session's id/req and methods are not). */
  #plain(session: ExpressSessionData): SessionData {
    return { ...(session as unknown as SessionData) };
  }

  #snapshot(data: object): Snapshot {
    const attributes = new Map<string, string>();
    for (const [name, value] of Object.entries(data)) {
      if (value === undefined) continue;
      try {
        attributes.set(name, this.#serializer.stringify(value));
      } catch (err) {
        throw new InvalidArgumentError(`session data attribute "${name}"`, `cannot be serialized: ${(err as Error).message}`, { cause: err });
      }
    }
    const userId = this.#userId?.(data as ExpressSessionData) ?? undefined;
    return { attributes, userId: userId === null ? undefined : userId };
  }
}

/** Calls back (outside the promise chain, so a throwing callback is not swallowed) or returns the promise. */
function settle<T>(p: Promise<T>, cb: Callback<T>): Promise<T> {
  if (typeof cb !== 'function') return p;
  p.then(
    (v) => process.nextTick(cb, null, v),
    (err: unknown) => process.nextTick(cb, err),
  );
  return p.catch(() => undefined as T);
}
