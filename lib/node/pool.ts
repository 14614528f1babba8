import { createPool, type Pool } from 'generic-pool';
import { Command, type Redis } from 'ioredis';
import { AuthError, ConnectionError, PoolError, TlsError } from '../errors.js';
import type { Credentials, ResolvedOptions } from '../options.js';
import { commandProblem } from '../core/arguments.js';
import { closeConnection, openConnection, reauth } from './connection.js';
import { writeCommand } from './safe-write.js';

/** Live counters of one node's pool, from `pool.stats`. */
export interface PoolStats {
  /** Connections open now (available + borrowed). */
  readonly size: number;
  /** Open connections waiting to be borrowed. */
  readonly available: number;
  /** Connections lent out now. */
  readonly borrowed: number;
  /** Callers waiting for a connection. */
  readonly pending: number;
  /** The pool's `min` option. */
  readonly min: number;
  /** The pool's `max` option. */
  readonly max: number;
  /** Connections opened since the pool started. */
  readonly created: number;
  /** Connections closed since the pool started. */
  readonly destroyed: number;
  /** Borrowers that gave up waiting (PoolError). */
  readonly acquireTimeouts: number;
}

/**
 * A connection of its own, borrowed from a node's pool: for commands that
 * block (BLPOP, XREAD BLOCK …) or pin connection state (MULTI/EXEC, WATCH).
 * Always give it back with `release()` — or `destroy()` when its state is
 * unknown (e.g. a blocking command was abandoned mid-wait).
 */
export class DedicatedConnection {
  /** `host:port` of the node this connection is to. */
  readonly address: string;
  readonly #redis: Redis;
  readonly #pool: DedicatedPool;
  #returned = false;

  constructor(address: string, redis: Redis, pool: DedicatedPool) {
    this.address = address;
    this.#redis = redis;
    this.#pool = pool;
  }

  /** The underlying ioredis standalone connection (typed commands, no cluster routing). */
  get redis(): Redis {
    return this.#redis;
  }

  /** Sends one command on this connection. */
  send(name: string, args: readonly unknown[], buffer = false): Promise<unknown> {
    const bad = commandProblem(name, args);
    if (bad !== undefined) return Promise.reject(bad);
    if (this.#redis.status !== 'ready') {
      // ioredis would reject with "Connection is closed", which reads as
      // "maybe sent"; here it provably never left.
      return Promise.reject(new ConnectionError(`Dedicated connection to ${this.address} is ${this.#redis.status}; ${name.toUpperCase()} was not sent`, {
        address: this.address, command: name.toUpperCase(), maybeSent: false,
      }));
    }
    const cmd = new Command(name.toLowerCase(), args as (string | Buffer | number)[], { replyEncoding: buffer ? null : 'utf8' });
    return writeCommand(this.#redis, cmd);
  }

  /** `send()` with spread arguments, string replies. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.send(name, args);
  }

  /** Returns the connection to the pool for reuse. Idempotent. */
  release(): Promise<void> {
    if (this.#returned) return Promise.resolve();
    this.#returned = true;
    return this.#pool.release(this);
  }

  /** Closes the connection instead of reusing it. Idempotent. */
  destroy(): Promise<void> {
    if (this.#returned) return Promise.resolve();
    this.#returned = true;
    return this.#pool.destroy(this);
  }
}

/**
 * A generic-pool of dedicated connections to one node: min/max, acquire
 * timeout (PoolError), idle eviction and PING validation on borrow.
 */
export class DedicatedPool {
  readonly #address: string;
  readonly #pool: Pool<Redis>;
  readonly #borrowed = new Set<DedicatedConnection>();
  #created = 0;
  #destroyed = 0;
  #acquireTimeouts = 0;
  #closed = false;
  /** Every open connection, idle or borrowed, with the credentials generation it logged in with. */
  readonly #authEpoch = new Map<Redis, number>();
  #epoch = 0;
  /** A refused login/handshake of the last create, reported instead of a bare acquire timeout. */
  #createRefused: Error | undefined;

  constructor(host: string, port: number, address: string, options: ResolvedOptions) {
    this.#address = address;
    const po = options.pool;
    this.#pool = createPool<Redis>(
      {
        create: async () => {
          let r: Redis;
          try {
            r = await openConnection(host, port, options, `${options.connectionName}:dedicated`);
          } catch (err) {
            if (err instanceof AuthError || err instanceof TlsError) this.#createRefused = err;
            throw err;
          }
          this.#createRefused = undefined;
          this.#created++;
          this.#authEpoch.set(r, this.#epoch);
          return r;
        },
        destroy: async (r) => {
          this.#destroyed++;
          this.#authEpoch.delete(r);
          await closeConnection(r, false);
        },
        validate: async (r) => {
          if (r.status !== 'ready') return false;
          try {
            return (await r.ping()) === 'PONG';
          } catch {
            return false;
          }
        },
      },
      {
        min: po.min,
        max: po.max,
        acquireTimeoutMillis: po.acquireTimeoutMs,
        idleTimeoutMillis: po.idleTimeoutMs,
        evictionRunIntervalMillis: Math.min(po.idleTimeoutMs, 10_000),
        testOnBorrow: true,
        autostart: po.min > 0,
      },
    );
  }

  /** Live counters of this pool. */
  get stats(): PoolStats {
    const p = this.#pool;
    return {
      size: p.size,
      available: p.available,
      borrowed: p.borrowed,
      pending: p.pending,
      min: p.min,
      max: p.max,
      created: this.#created,
      destroyed: this.#destroyed,
      acquireTimeouts: this.#acquireTimeouts,
    };
  }

  /** Borrows a connection; PoolError after `pool.acquireTimeoutMs`. */
  async acquire(): Promise<DedicatedConnection> {
    if (this.#closed) throw new ConnectionError(`The pool of ${this.#address} is closed`, { address: this.#address });
    let r: Redis;
    try {
      r = await this.#pool.acquire();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') this.#acquireTimeouts++;
      if (this.#createRefused !== undefined) throw this.#createRefused;
      const s = this.stats;
      throw new PoolError(
        `No dedicated connection to ${this.#address} within ${s.max === s.borrowed ? 'the acquire timeout: all ' + s.max + ' are borrowed' : 'the acquire timeout'}` +
          ` (borrowed ${s.borrowed}/${s.max}, waiting ${s.pending})`,
        { address: this.#address, cause: err },
      );
    }
    if (this.#closed) {
      await this.#pool.destroy(r).catch(() => undefined);
      throw new ConnectionError(`The pool of ${this.#address} is closed`, { address: this.#address });
    }
    // A fresh wrapper per borrow keeps release() idempotent per borrower.
    const w = new DedicatedConnection(this.#address, r, this);
    this.#borrowed.add(w);
    return w;
  }

  /**
   * Re-AUTHs every idle connection now. A borrowed one may be inside MULTI
   * (an AUTH there would join the transaction) or blocked: it is closed when
   * given back instead, so its next user gets a connection with fresh credentials.
   */
  async reauthenticate(creds: Credentials | undefined): Promise<void> {
    const epoch = ++this.#epoch;
    const borrowed = new Set([...this.#borrowed].map((c) => c.redis));
    await Promise.all(
      [...this.#authEpoch.keys()]
        .filter((r) => !borrowed.has(r) && r.status === 'ready')
        .map(async (r) => {
          await reauth(r, creds);
          this.#authEpoch.set(r, epoch);
        }),
    );
  }

  /** @internal Called by DedicatedConnection.release(). */
  async release(c: DedicatedConnection): Promise<void> {
    const r = c.redis;
    if (r.status !== 'ready' || this.#closed || (this.#authEpoch.get(r) ?? this.#epoch) < this.#epoch) return this.destroy(c);
    this.#borrowed.delete(c);
    await this.#pool.release(r).catch(() => undefined);
  }

  /** @internal Called by DedicatedConnection.destroy(). */
  async destroy(c: DedicatedConnection): Promise<void> {
    this.#borrowed.delete(c);
    await this.#pool.destroy(c.redis).catch(() => undefined);
  }

  /**
   * Closes every connection. Borrowed ones are closed too (a command pending
   * on one fails with a connection error): a blocking command must not keep
   * a closing client alive.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#borrowed].map((c) => c.destroy()));
    await this.#pool.drain().catch(() => undefined);
    await this.#pool.clear().catch(() => undefined);
  }
}
