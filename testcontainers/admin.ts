/**
 * Admin connections to single nodes (ioredis standalone, never ioredis.Cluster)
 * and the one polling helper every wait in the engine goes through. There are
 * no sleeps used as synchronization: every wait polls a condition against a
 * deadline and, on timeout, says what it waited for and what it last saw.
 */
import { Redis } from 'ioredis';
import { ClusterEngineError } from '../lib/errors.js';
import type { TlsClientOptions } from './tls.js';

/** Credentials the nodes require. `username` selects an ACL user instead of `requirepass`. */
export interface NodeAuth {
  readonly username?: string;
  readonly password: string;
}

/** How long one admin command may take before the node counts as unresponsive. */
const ADMIN_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Opens a standalone admin connection. It never reconnects and never queues
 * commands while disconnected: a dead or frozen node must surface as an error
 * at once, not as a hang.
 */
export function openAdminConnection(host: string, port: number, auth?: NodeAuth, commandTimeoutMs = ADMIN_COMMAND_TIMEOUT_MS, tls?: TlsClientOptions): Redis {
  const client = new Redis({
    host,
    port,
    username: auth?.username,
    password: auth?.password,
    // TLS-only nodes: the engine talks TLS like any client (with the client certificate when mutual).
    ...(tls === undefined ? {} : { tls: { ...tls } }),
    // RESP2: CLUSTER replies arrive as plain arrays/strings, no RESP3 maps.
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: true,
    enableReadyCheck: false,
    retryStrategy: null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: commandTimeoutMs,
    disableClientInfo: true,
    connectionName: 'slotwise-engine-admin',
  });
  // Errors are reported through the rejected command; an unhandled 'error' event would only add noise.
  client.on('error', () => {});
  return client;
}

/**
 * One reusable admin connection per port. A connection that ended (node killed,
 * command timed out on a frozen node) is replaced on the next use.
 */
export class AdminPool {
  readonly #hostOf: (port: number) => string;
  readonly #auth: NodeAuth | undefined;
  readonly #tls: TlsClientOptions | undefined;
  readonly #clients = new Map<number, Redis>();
  #closed = false;

  /** `hostOf(port)`: the address this machine reaches the node on `port` at (it may move); `tls` for TLS-only nodes. */
  constructor(hostOf: (port: number) => string, auth?: NodeAuth, tls?: TlsClientOptions) {
    this.#hostOf = hostOf;
    this.#auth = auth;
    this.#tls = tls;
  }

  /** Sends one command to the node on `port` and returns the raw reply. */
  async call(port: number, command: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    if (this.#closed) throw new ClusterEngineError('admin connections are closed (cluster stopped)');
    let client = this.#clients.get(port);
    if (client === undefined || client.status === 'end' || client.status === 'close') {
      client?.disconnect();
      client = openAdminConnection(this.#hostOf(port), port, this.#auth, ADMIN_COMMAND_TIMEOUT_MS, this.#tls);
      this.#clients.set(port, client);
    }
    try {
      return await client.call(command, ...args);
    } catch (err) {
      // A timed-out command leaves the connection in an unknown state; start afresh next time.
      if (err instanceof Error && /timed out|Connection is closed|ECONNREFUSED|ECONNRESET/i.test(err.message)) {
        this.drop(port);
      }
      const what = [command, ...args.slice(0, 3)].join(' ');
      const host = client.options.host ?? '127.0.0.1';
      throw new ClusterEngineError(`${what} on ${host}:${port}: ${errorText(err)}`, {
        cause: err,
        address: `${host}:${port}`,
        command: command.toUpperCase(),
      });
    }
  }

  /** Closes the connection to one node (e.g. before killing it). */
  drop(port: number): void {
    const client = this.#clients.get(port);
    if (client === undefined) return;
    this.#clients.delete(port);
    client.disconnect();
  }

  /** Closes every connection; later calls fail. */
  close(): void {
    this.#closed = true;
    for (const port of [...this.#clients.keys()]) this.drop(port);
  }
}

/** Options of {@link retryUntil}. */
export interface RetryUntilOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts. @default 50 */
  intervalMs?: number;
  /** What is being waited for, used in the timeout error ("replica 7004 to become master"). */
  what: string;
  /** Abort early. */
  signal?: AbortSignal;
  /** Errors for which waiting longer is pointless: rethrown at once. */
  fatal?: (err: unknown) => boolean;
}

/**
 * Calls `attempt` until it returns something other than `undefined`/`false`,
 * or until the deadline. Errors thrown by `attempt` count as "not yet" (unless
 * `fatal` says otherwise) and the last one is reported on timeout, so an
 * attempt should throw an Error describing what it still misses.
 *
 * @throws ClusterEngineError naming `what`, the elapsed time and the last problem seen.
 */
export async function retryUntil<T>(attempt: () => Promise<T | undefined | false>, options: RetryUntilOptions): Promise<T> {
  const { timeoutMs, intervalMs = 50, what, signal, fatal } = options;
  const started = Date.now();
  let last: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const result = await attempt();
      if (result !== undefined && result !== false) return result;
      last = undefined;
    } catch (err) {
      if (fatal?.(err) === true) throw err;
      last = err;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      const detail = last === undefined ? '' : `; last problem: ${last instanceof Error ? last.message : String(last)}`;
      throw new ClusterEngineError(`Timed out after ${elapsed} ms waiting for ${what}${detail}`, { cause: last });
    }
    await delay(Math.min(intervalMs, timeoutMs - elapsed));
  }
}

/** A timer-based pause; only for pacing polls, never as synchronization. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Error text of a rejection, for matching server replies like "ERR Unknown node". */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
