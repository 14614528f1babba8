import type * as Zk from 'node-zookeeper-client';
import { DiscoveryError } from '../errors.js';

/** Options of a {@link ZooKeeperStore}. */
export interface ZooKeeperStoreOptions {
  /** ZooKeeper session timeout asked of the server (it may grant less). @default 10000 */
  sessionTimeoutMs?: number;
  /** How long `read()` and `write()` wait for a connected session. @default 5000 */
  operationTimeoutMs?: number;
}

/** What {@link ZooKeeperStore.watch} calls: the znode's text, or undefined while it does not exist. */
export type ZnodeListener = (text: string | undefined) => void;

interface Watched {
  readonly listeners: Set<{ onData: ZnodeListener; onError: (err: Error) => void }>;
  /** One function per path: the library dedupes watchers by identity, so re-arming never piles up. */
  readonly watcher: () => void;
  last: string | undefined | null;
}

/**
 * One ZooKeeper session shared by discovery and configuration watches. The
 * `node-zookeeper-client` package is loaded on first use (it is an optional
 * dependency). Watches survive outages: the library re-registers them when it
 * reconnects within the session, and this store re-reads every watched znode
 * after each reconnect and opens a new session when the old one expired, so
 * a change made while the server was away is still delivered.
 */
export class ZooKeeperStore {
  /** The connect string, e.g. `zk1:2181,zk2:2181/chroot`. */
  readonly connect: string;
  readonly #sessionTimeoutMs: number;
  readonly #operationTimeoutMs: number;
  readonly #watched = new Map<string, Watched>();
  #client: Zk.Client | undefined;
  #opening: Promise<Zk.Client> | undefined;
  #connected = false;
  #closed = false;
  #waiters = new Set<() => void>();
  /** Fires when a disconnection outlasts the session timeout (see #onState). */
  #abandon: NodeJS.Timeout | undefined;

  constructor(connect: string, options: ZooKeeperStoreOptions = {}) {
    if (typeof connect !== 'string' || connect.length === 0) throw new DiscoveryError('ZooKeeperStore needs a connect string like "127.0.0.1:2181"');
    this.connect = connect;
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 5000;
  }

  /** True while the session is connected. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The znode's text, or undefined when it does not exist. */
  async read(path: string): Promise<string | undefined> {
    const client = await this.#ready();
    return new Promise((resolve, reject) => {
      client.getData(path, (err, data) => {
        if (isNoNode(err)) resolve(undefined);
        else if (err) reject(new DiscoveryError(`ZooKeeper read of ${path} failed: ${String(err)}`, { cause: err }));
        else resolve(data?.toString('utf8') ?? '');
      });
    });
  }

  /** Writes the znode, creating it and its parents when missing. */
  async write(path: string, text: string): Promise<void> {
    const client = await this.#ready();
    const data = Buffer.from(text, 'utf8');
    await new Promise<void>((resolve, reject) => {
      client.mkdirp(path, (err) => (err ? reject(new DiscoveryError(`ZooKeeper create of ${path} failed: ${String(err)}`, { cause: err })) : resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      client.setData(path, data, (err) => (err ? reject(new DiscoveryError(`ZooKeeper write of ${path} failed: ${String(err)}`, { cause: err })) : resolve()));
    });
  }

  /**
   * Calls `onData` with the znode's current text and again after every
   * change (undefined while it does not exist). `onError` hears only failures
   * to open a session (e.g. the client package is missing); outages are
   * waited out. Returns a function that stops this listener.
   */
  watch(path: string, onData: ZnodeListener, onError: (err: Error) => void = () => {}): () => void {
    let w = this.#watched.get(path);
    if (!w) {
      const entry: Watched = { listeners: new Set(), watcher: () => this.#arm(path), last: null };
      this.#watched.set(path, entry);
      w = entry;
    }
    const listener = { onData, onError };
    w.listeners.add(listener);
    if (w.last !== null) onData(w.last);
    this.#open().then(() => this.#arm(path), (err: Error) => onError(err));
    return () => {
      w.listeners.delete(listener);
      if (w.listeners.size === 0) this.#watched.delete(path);
    };
  }

  /** Ends the session. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#abandon);
    this.#watched.clear();
    for (const wake of this.#waiters) wake();
    const client = this.#client ?? (await this.#opening?.catch(() => undefined));
    this.#client = undefined;
    client?.removeAllListeners();
    client?.close();
  }

  #arm(path: string): void {
    const client = this.#client;
    const w = this.#watched.get(path);
    if (!client || !w || this.#closed) return;
    client.getData(path, w.watcher, (err, data) => {
      if (isNoNode(err)) {
        // Watch for its creation instead.
        client.exists(path, w.watcher, (e2, stat) => {
          if (!e2 && stat) this.#arm(path);
          else if (!e2) this.#deliver(path, undefined);
        });
      } else if (!err) {
        this.#deliver(path, data?.toString('utf8') ?? '');
      }
      // Connection loss: the reconnect handler re-arms every path.
    });
  }

  #deliver(path: string, text: string | undefined): void {
    const w = this.#watched.get(path);
    if (!w || w.last === text) return;
    w.last = text;
    for (const l of [...w.listeners]) l.onData(text);
  }

  async #ready(): Promise<Zk.Client> {
    const client = await this.#open();
    if (this.#connected) return client;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new DiscoveryError(`ZooKeeper at ${this.connect} not connected within ${this.#operationTimeoutMs} ms`));
      }, this.#operationTimeoutMs);
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        if (this.#closed) reject(new DiscoveryError('the ZooKeeperStore was closed'));
        else resolve();
      };
      this.#waiters.add(wake);
    });
    return client;
  }

  #open(): Promise<Zk.Client> {
    if (this.#closed) return Promise.reject(new DiscoveryError('the ZooKeeperStore was closed'));
    if (this.#client) return Promise.resolve(this.#client);
    this.#opening ??= loadClientModule().then((zk) => {
      this.#opening = undefined;
      if (this.#closed) throw new DiscoveryError('the ZooKeeperStore was closed');
      const client = zk.createClient(this.connect, { sessionTimeout: this.#sessionTimeoutMs, spinDelay: 200 });
      client.on('state', (state: Zk.State) => this.#onState(client, state, zk));
      client.connect();
      this.#client = client;
      return client;
    });
    return this.#opening;
  }

  #onState(client: Zk.Client, state: Zk.State, zk: typeof Zk): void {
    if (client !== this.#client) return;
    if (state === zk.State.SYNC_CONNECTED || state === zk.State.CONNECTED_READ_ONLY) {
      clearTimeout(this.#abandon);
      this.#abandon = undefined;
      this.#connected = true;
      for (const wake of [...this.#waiters]) wake();
      for (const path of this.#watched.keys()) this.#arm(path);
    } else if (state === zk.State.DISCONNECTED) {
      this.#connected = false;
      // The library only learns of an expiry from a server that accepts it again. A
      // server restarted from a log older than the session's last zxid refuses it
      // for good ("client must try another server"), and the library retries the
      // same session forever. Past the session timeout the server has dropped the
      // session anyway: start a new one.
      this.#abandon ??= setTimeout(() => {
        this.#abandon = undefined;
        if (client === this.#client && !this.#connected) this.#renew(client);
      }, this.#sessionTimeoutMs + 1000).unref();
    } else if (state === zk.State.EXPIRED) {
      this.#renew(client);
    }
  }

  /** The session (and its watches) is gone: a new client, a new session; #onState re-arms the watches. */
  #renew(client: Zk.Client): void {
    clearTimeout(this.#abandon);
    this.#abandon = undefined;
    this.#connected = false;
    this.#client = undefined;
    client.removeAllListeners();
    client.close();
    if (!this.#closed) this.#open().catch(() => undefined);
  }
}

function isNoNode(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'NO_NODE';
}

let loaded: Promise<typeof Zk> | undefined;

/** Loads the optional `node-zookeeper-client` package, or explains how to get it. */
function loadClientModule(): Promise<typeof Zk> {
  loaded ??= import('node-zookeeper-client').then(
    (m) => ((m as unknown as { default?: typeof Zk }).default ?? m) as typeof Zk,
    (err: unknown) => {
      loaded = undefined;
      throw new DiscoveryError('ZooKeeper support needs the optional package node-zookeeper-client: npm install node-zookeeper-client', { cause: err });
    },
  );
  return loaded;
}
