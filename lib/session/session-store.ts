import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClusterClient } from '../cluster-client.js';
import { InvalidArgumentError, SessionConflictError, SessionExistsError } from '../errors.js';
import type { Subscription } from '../pubsub/subscription.js';
import type { GapEvent } from '../pubsub/types.js';
import { checkClient } from '../check-client.js';
import { SessionBulk } from './bulk.js';
import { mapLimit } from './concurrency.js';
import { instrumentSessionOperations } from './metrics.js';
import { subscribeExpiry, type WatchExpiryOptions } from './expiry-events.js';
import { regenerateSession } from './regenerate.js';
import { isAttributeField, readRaw, writeEncoded, type EncodedWriteMode, type EncodedWriteOptions, type RawFields } from './internal.js';
import { ATTRIBUTE, META_FIELD, parseMeta, SessionKeys } from './keys.js';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionStoreOptions } from './options.js';
import { runScript, sessionScripts, type SessionScripts } from './scripts.js';
import { UserIndex, type SweepResult } from './user-index.js';
import { checkId, checkTtl, checkUserId, checkVersion, describeValue, encodeAttributes, type EncodedAttributes } from './validate.js';

/** Session attributes: any JSON-serializable values by name. */
export type SessionData = Record<string, unknown>;

/** A session with its metadata, as `getEntry()`, `listByUser()` and `all()` return it. */
export interface SessionEntry<T extends SessionData = SessionData> {
  /** The session id. */
  readonly id: string;
  /** The session's attributes. */
  readonly data: T;
  /** Owner, when the session has one. */
  readonly userId: string | undefined;
  /** Increases with every write; pass it as `expectedVersion` for compare-and-set. */
  readonly version: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last write (create, set, patch); touches only move `expiresAt`. */
  readonly updatedAt: number;
  /** Epoch ms when the session expires unless written or touched again. */
  readonly expiresAt: number;
}

/** Options of `create()`. */
export interface CreateOptions {
  /** Use this id instead of a generated one; fails with SessionExistsError if it exists or was destroyed recently. @default a generated id */
  id?: string;
  /** Idle timeout of this session. @default the store's `ttlMs` */
  ttlMs?: number;
  /** Absolute lifetime of this session; 0 for none. @default the store's `absoluteTtlMs` */
  absoluteTtlMs?: number;
  /** Owner: makes the session findable by `listByUser()` / `destroyByUser()`. @default undefined (no owner) */
  userId?: string;
}

/** Options of `set()`, `patch()`. */
export interface WriteOptions {
  /** New idle timeout (also slides the expiry). @default the session's current one */
  ttlMs?: number;
  /** New owner; `null` removes the owner. @default unchanged */
  userId?: string | null;
  /** Write only if the session's version is still this one; otherwise SessionConflictError. @default undefined (no check) */
  expectedVersion?: number;
}

/** Events of a SessionStore. */
export interface SessionStoreEvents {
  /** A session expired (after `watchExpiry()`; see docs/08-sessions.md). */
  expired: [{
    /** The expired session's id. */
    id: string;
  }];
  /** A window in which expiry events of some master could not be received (they may have been missed). */
  gap: [GapEvent];
  /** A background task (sweep, expiry watch) failed. */
  error: [Error];
}

/** write.lua's reply: a status, `CONFLICT:<version>` when the expected version did not match. */
type WriteStatus = 'OK' | 'MISSING' | 'EXISTS' | 'DESTROYED' | 'EXPIRED' | `CONFLICT:${number}`;

/**
 * Sessions on a Redis Cluster: one hash per session (per-attribute writes,
 * sliding and absolute expiry, versions, tombstones against resurrection), a
 * per-user index, and bulk operations that work slot by slot on every master.
 * See docs/08-sessions.md.
 */
export class SessionStore extends EventEmitter<SessionStoreEvents> {
  /** The options in force, defaults filled in. */
  readonly options: ResolvedSessionOptions;
  readonly #client: ClusterClient;
  readonly #keys: SessionKeys;
  readonly #scripts: SessionScripts;
  readonly #index: UserIndex;
  readonly #bulk: SessionBulk;
  #sweeper: NodeJS.Timeout | undefined;
  #expiry: Promise<Subscription> | undefined;
  #sweeping = false;

  constructor(client: ClusterClient, options: SessionStoreOptions = {}) {
    super();
    this.#client = checkClient(client);
    this.options = resolveSessionOptions(options);
    this.#keys = new SessionKeys(this.options.prefix);
    this.#scripts = sessionScripts(client);
    const o = this.options;
    this.#index = new UserIndex(client, this.#keys, this.#scripts, { graceMs: o.indexGraceMs, scanCount: o.scanCount, concurrency: o.bulkConcurrency });
    this.#bulk = new SessionBulk(client, this.#keys, o);
    if (o.sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => void this.#backgroundSweep(), o.sweepIntervalMs).unref();
    }
  }

  /** Key layout helper (the session key of an id is `keys.session(id)`). */
  get keys(): SessionKeys {
    return this.#keys;
  }

  /** A new session id: `idBytes` bytes from the CSPRNG, base64url. */
  generateId(): string {
    return randomBytes(this.options.idBytes).toString('base64url');
  }

  /** Creates a session and returns its id. */
  async create(data: SessionData = {}, opts: CreateOptions = {}): Promise<string> {
    const o = this.#object(opts, 'create options');
    const id = o.id === undefined ? this.generateId() : checkId(o.id);
    const ttl = o.ttlMs === undefined ? this.options.ttlMs : checkTtl(o.ttlMs, 'ttlMs');
    const absolute = o.absoluteTtlMs === undefined ? this.options.absoluteTtlMs : o.absoluteTtlMs === 0 ? 0 : checkTtl(o.absoluteTtlMs, 'absoluteTtlMs');
    const userId = o.userId === undefined ? undefined : checkUserId(o.userId);
    const attrs = encodeAttributes(data, this.options.serializer, 'session data', false);
    if (userId !== undefined) await this.#index.add(userId, id, absolute > 0 ? Math.min(ttl, absolute) : ttl);
    const status = await this.#write('create', id, attrs, ttl, absolute, userId === undefined ? '' : `=${userId}`, '');
    if (status === 'EXISTS') throw new SessionExistsError(id, 'exists');
    if (status === 'DESTROYED') throw new SessionExistsError(id, 'destroyed');
    return id;
  }

  /** The attributes of a live session, or null. */
  async get<T extends SessionData = SessionData>(id: string): Promise<T | null> {
    const fields = await this[readRaw](id);
    if (fields === null) return null;
    const data: SessionData = {};
    for (const field in fields) {
      if (!isAttributeField(field)) continue;
      const name = field.slice(ATTRIBUTE.length);
      if (name !== '__proto__') data[name] = this.options.serializer.deserialize(fields[field]!);
    }
    return data as T;
  }

  /** @internal The session hash's fields as stored (see internal.ts). */
  async [readRaw](id: string): Promise<RawFields | null> {
    // Untyped on purpose: the typed hgetall() re-shapes the reply, a measurable cost on every request.
    const reply = await this.#client.send('hgetall', [this.#keys.session(checkId(id))]);
    const fields = reply !== null && typeof reply === 'object' && !Array.isArray(reply) && !(reply instanceof Map) ? (reply as RawFields) : toFields(reply);
    return typeof fields[META_FIELD] === 'string' ? fields : null;
  }

  /** @internal upsert/patch with attributes the adapter already serialized (see internal.ts). */
  async [writeEncoded](mode: EncodedWriteMode, id: string, attrs: EncodedAttributes, opts: EncodedWriteOptions): Promise<boolean> {
    checkId(id);
    const ttl = checkTtl(opts.ttlMs, 'ttlMs');
    const owner = this.#owner(opts.userId);
    if (typeof opts.userId === 'string') await this.#index.add(opts.userId, id, ttl);
    const status = await this.#write(mode, id, attrs, ttl, mode === 'upsert' ? this.options.absoluteTtlMs : 0, owner, '');
    return status === 'OK';
  }

  /** A live session with its metadata, or null. */
  async getEntry<T extends SessionData = SessionData>(id: string): Promise<SessionEntry<T> | null> {
    const reply = (await this.#scripts.read.run([this.#keys.session(checkId(id))])) as (string | number)[];
    return this.#entry(id, reply) as SessionEntry<T> | null;
  }

  /**
   * Replaces every attribute of an existing session. Returns false (and
   * writes nothing) when the session does not exist: an expired or destroyed
   * session is never brought back by a save.
   */
  set(id: string, data: SessionData, opts: WriteOptions = {}): Promise<boolean> {
    return this.#update('replace', id, data, opts);
  }

  /**
   * Writes only the given attributes (`undefined` removes one). Concurrent
   * patches of different attributes both persist. Returns false when the
   * session does not exist.
   */
  patch(id: string, attributes: SessionData, opts: WriteOptions = {}): Promise<boolean> {
    return this.#update('patch', id, attributes, opts);
  }

  /**
   * Creates the session under `id` if absent (unless destroyed recently),
   * replaces it otherwise — what a framework's first save of a new id needs.
   * Returns false when a tombstone stopped it.
   */
  async upsert(id: string, data: SessionData, opts: Omit<WriteOptions, 'expectedVersion'> = {}): Promise<boolean> {
    const o = this.#object(opts, 'upsert options');
    checkId(id);
    const ttl = o.ttlMs === undefined ? this.options.ttlMs : checkTtl(o.ttlMs, 'ttlMs');
    const owner = this.#owner(o.userId);
    const attrs = encodeAttributes(data, this.options.serializer, 'session data', false);
    if (typeof o.userId === 'string') await this.#index.add(o.userId, id, ttl);
    const status = await this.#write('upsert', id, attrs, ttl, this.options.absoluteTtlMs, owner, '');
    return status === 'OK';
  }

  /** Slides the expiry (optionally with a new idle timeout). False when the session does not exist. */
  async touch(id: string, opts: { ttlMs?: number } = {}): Promise<boolean> {
    const o = this.#object(opts, 'touch options');
    const ttl = o.ttlMs === undefined ? '' : checkTtl(o.ttlMs, 'ttlMs');
    const argv = [this.#scripts.touch.sha, '1', this.#keys.session(checkId(id)), String(Date.now()), String(ttl)];
    const expiresAt = Number(await runScript(this.#client, this.#scripts.touch, argv));
    return expiresAt > 0;
  }

  /**
   * Deletes a session and leaves a tombstone for `tombstoneTtlMs`, so no save
   * in flight can bring it back. True when it existed.
   */
  async destroy(id: string): Promise<boolean> {
    checkId(id);
    const [status, owner] = (await this.#scripts.destroy.run(this.#both(id), [this.options.tombstoneTtlMs, '', ''])) as [string, string];
    if (owner) await this.#index.removeDestroyed(owner, [id]);
    return status === 'DESTROYED';
  }

  /**
   * Moves a session to a new id (same data, owner and expiry) and destroys
   * the old one — e.g. at login, against session fixation. The ids live in
   * different slots, so this copies instead of RENAME; a write to the old id
   * during the copy is carried over (the old one is removed only if its
   * version did not change). Returns the new id, or null when the session
   * does not exist.
   */
  async regenerate(id: string, opts: { newId?: string } = {}): Promise<string | null> {
    checkId(id);
    const newId = opts.newId === undefined ? this.generateId() : checkId(opts.newId, 'newId');
    if (newId === id) throw new InvalidArgumentError('newId', 'expected an id different from the current one');
    return regenerateSession(
      { scripts: this.#scripts, keys: this.#keys, index: this.#index, options: this.options, destroy: (sid) => this.destroy(sid) },
      id,
      newId,
    );
  }

  /** Live sessions of a user (every entry of the index is verified against its session). */
  async listByUser<T extends SessionData = SessionData>(userId: string): Promise<SessionEntry<T>[]> {
    checkUserId(userId);
    const entries = await this.#index.entries(userId);
    const found = await Promise.all(entries.map((e) => this.getEntry<T>(e.id).catch(() => null)));
    const live = found.filter((e): e is SessionEntry<T> => e !== null && e.userId === userId);
    // Dead entries the index still holds are pruned under the sweep's rules (only when due).
    if (live.length < entries.length) await this.#index.sweepUser(userId);
    return live;
  }

  /** Destroys every session of a user, wherever its slot; returns how many were destroyed. */
  async destroyByUser(userId: string): Promise<number> {
    checkUserId(userId);
    let total = 0;
    // Repeat while a pass destroys something: sessions created for the user during a pass are caught by the next.
    for (let pass = 0; pass < 10; pass++) {
      const entries = await this.#index.entries(userId);
      const results = await Promise.all(
        entries.map((e) => this.#scripts.destroy.run(this.#both(e.id), [this.options.tombstoneTtlMs, userId, '']) as Promise<[string, string]>),
      );
      const destroyed = entries.filter((_, i) => results[i]![0] === 'DESTROYED').map((e) => e.id);
      await this.#index.removeDestroyed(userId, destroyed);
      total += destroyed.length;
      if (destroyed.length === 0) break;
    }
    return total;
  }

  /** One pass over every user index: removes entries of sessions that expired or changed owner. */
  sweep(): Promise<SweepResult> {
    return this.#index.sweep();
  }

  /** Every live session (all masters, slot by slot). */
  async all<T extends SessionData = SessionData>(): Promise<SessionEntry<T>[]> {
    // The autopipelined node connections batch these reads per node and tick.
    const entries = await mapLimit(await this.#bulk.ids(), this.options.bulkConcurrency, (id) => this.getEntry<T>(id));
    return entries.filter((e): e is SessionEntry<T> => e !== null);
  }

  /** Ids of every live session. */
  ids(): Promise<string[]> {
    return this.#bulk.ids();
  }

  /** Number of live sessions. */
  length(): Promise<number> {
    return this.#bulk.length();
  }

  /** Deletes every key of this store (sessions, tombstones, user indexes) slot by slot; returns how many keys. */
  clear(): Promise<number> {
    return this.#bulk.clear();
  }

  /**
   * Starts emitting `expired` events, from keyspace notifications of every
   * master. Checks `notify-keyspace-events` first (see WatchExpiryOptions)
   * and rejects with KeyspaceNotificationsDisabledError when it is off.
   * Calling it again returns the same watch.
   */
  async watchExpiry(opts: WatchExpiryOptions = {}): Promise<void> {
    this.#expiry ??= subscribeExpiry(this.#client, this.#keys, opts, (id) => this.emit('expired', { id })).then(
      (sub) => {
        sub.on('gap', (g) => this.emit('gap', g));
        return sub;
      },
      (err: unknown) => {
        this.#expiry = undefined;
        throw err;
      },
    );
    await this.#expiry;
  }

  /** Stops background work (sweeper, expiry watch). The client stays open: it is the caller's. */
  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const expiry = this.#expiry;
    this.#expiry = undefined;
    await (await expiry?.catch(() => undefined))?.unsubscribe();
  }

  /** `await using sessions = …` closes the store at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  static {
    instrumentSessionOperations(this.prototype, new Map<PropertyKey, string>([
      // get() reads through [readRaw]: counted there, once.
      ['create', 'create'], ['getEntry', 'get'], [readRaw, 'get'], ['set', 'set'], ['patch', 'patch'], ['upsert', 'set'],
      [writeEncoded, 'set'], ['touch', 'touch'], ['destroy', 'destroy'], ['regenerate', 'regenerate'], ['listByUser', 'list_by_user'],
      ['destroyByUser', 'destroy_by_user'],
    ]), (store) => store.#client);
  }

  async #backgroundSweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.#index.sweep();
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
    } finally {
      this.#sweeping = false;
    }
  }

  async #update(mode: 'replace' | 'patch', id: string, data: SessionData, opts: WriteOptions): Promise<boolean> {
    const o = this.#object(opts, `${mode === 'patch' ? 'patch' : 'set'} options`);
    checkId(id);
    const ttl = o.ttlMs === undefined ? undefined : checkTtl(o.ttlMs, 'ttlMs');
    const owner = this.#owner(o.userId);
    const expected = o.expectedVersion === undefined ? '' : String(checkVersion(o.expectedVersion));
    const attrs = encodeAttributes(data, this.options.serializer, mode === 'patch' ? 'attributes' : 'session data', mode === 'patch');
    if (typeof o.userId === 'string') await this.#index.add(o.userId, id, ttl ?? this.options.ttlMs);
    const status = await this.#write(mode, id, attrs, ttl, 0, owner, expected);
    if (status.startsWith('CONFLICT:')) {
      const version = status.slice('CONFLICT:'.length);
      throw new SessionConflictError(id, `Session "${id}" is at version ${version}, not the expected ${expected}; nothing was written`, Number(version));
    }
    return status === 'OK';
  }

  async #write(mode: string, id: string, attrs: EncodedAttributes, ttl: number | undefined, absolute: number, owner: string, expected: string): Promise<WriteStatus> {
    // The whole EVALSHA argument list in one array, built once (see runScript).
    const { pairs, removed } = attrs;
    const argv = new Array<string>(11 + pairs.length + removed.length);
    argv[0] = this.#scripts.write.sha;
    argv[1] = '2';
    argv[2] = this.#keys.session(id);
    argv[3] = this.#keys.tombstone(id);
    argv[4] = String(Date.now());
    argv[5] = mode;
    argv[6] = ttl === undefined ? '' : String(ttl);
    argv[7] = absolute > 0 ? String(absolute) : '';
    argv[8] = owner;
    argv[9] = expected;
    argv[10] = String(pairs.length / 2);
    for (let i = 0; i < pairs.length; i++) argv[11 + i] = pairs[i]!;
    for (let i = 0; i < removed.length; i++) argv[11 + pairs.length + i] = removed[i]!;
    return String(await runScript(this.#client, this.#scripts.write, argv)) as WriteStatus;
  }

  #owner(userId: unknown): string {
    if (userId === undefined) return '';
    if (userId === null) return '-';
    return `=${checkUserId(userId)}`;
  }

  #both(id: string): [string, string] {
    return [this.#keys.session(id), this.#keys.tombstone(id)];
  }

  #object<T>(opts: T, what: string): T {
    if (opts === null || typeof opts !== 'object') throw new InvalidArgumentError(what, `expected an object, got ${describeValue(opts)}`);
    return opts;
  }

  #decode(fields: Record<string, string>): SessionData {
    const data: SessionData = {};
    for (const [field, text] of Object.entries(fields)) {
      if (!field.startsWith(ATTRIBUTE)) continue;
      const name = field.slice(ATTRIBUTE.length);
      if (name === '__proto__') continue;
      data[name] = this.options.serializer.deserialize(text);
    }
    return data;
  }

  /** Builds an entry from a read.lua reply ({pttl, field, value, …}); null when absent. */
  #entry(id: string, reply: readonly (string | number)[]): SessionEntry | null {
    const pttl = Number(reply[0]);
    if (pttl === -2 || reply.length < 2) return null;
    const fields: Record<string, string> = {};
    for (let i = 1; i < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
    const meta = parseMeta(fields[META_FIELD]);
    if (meta === undefined) return null;
    return {
      id,
      data: this.#decode(fields),
      userId: meta.userId,
      version: meta.version,
      createdAt: meta.createdAt,
      updatedAt: meta.updatedAt,
      expiresAt: Date.now() + (pttl > 0 ? pttl : 0),
    };
  }
}

/** A HGETALL reply in another shape (a flat array, a Map) as field → value strings. */
function toFields(reply: unknown): RawFields {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  else if (reply instanceof Map) for (const [field, value] of reply) out[String(field)] = String(value);
  return out;
}
