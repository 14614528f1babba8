import { Command, type Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { commandProblem } from '../core/arguments.js';
import { AuthError, CircuitOpenError, ConnectionError, InvalidArgumentError, QueueFullError, TlsError } from '../errors.js';
import type { Credentials, ResolvedOptions } from '../options.js';
import { NodeBreaker, type BreakerState } from './breaker.js';
import { closeConnection, openConnection, reauth } from './connection.js';
import { DedicatedPool, type PoolStats } from './pool.js';
import { writeAsking, writeCommand } from './safe-write.js';
import { BatchedWrites } from './batched-writes.js';
import type { Outgoing } from './outgoing.js';

/** Whether a node serves a shard as its master or as one of its replicas. */
export type NodeRole = 'master' | 'replica';
/** State of a node's multiplexed connection. */
export type ConnectionStatus = 'idle' | 'connecting' | 'ready' | 'closed';

/** Live counters of one node, from `node.stats`. */
export interface NodeStats {
  /** `host:port` of the node. */
  readonly address: string;
  /** Its role in the current topology. */
  readonly role: NodeRole;
  /** State of its multiplexed connection. */
  readonly connection: ConnectionStatus;
  /** State of its circuit breaker. */
  readonly breaker: BreakerState;
  /** Commands written and not yet answered. */
  readonly inFlight: number;
  /** Commands written to it since the client started. */
  readonly commands: number;
  /** Times its connection was (re)established. */
  readonly connects: number;
  /** Times its connection was lost or failed to open. */
  readonly connectionLosses: number;
  /** Commands to it that ran out of time. */
  readonly timeouts: number;
  /** Latency EWMA in ms of sampled replies, undefined before the first. */
  readonly latencyMs: number | undefined;
}

/** What a node tells its owner (the client) about itself. */
export interface NodeEvents {
  onBreaker(node: NodeHandle, state: BreakerState): void;
  /** The connection failed or was lost: the topology may be changing. */
  onConnectionFailure(node: NodeHandle, error: Error): void;
  /** A connection is ready again. */
  onConnected(node: NodeHandle): void;
  /**
   * Runs on every new multiplexed connection before it carries any command
   * (client-side caching turns tracking on here). Must not reject.
   */
  prepare?(node: NodeHandle, redis: Redis): Promise<void>;
}

/** ioredis' queue of written, unanswered commands (not in its typings). */
interface Queued {
  readonly commandQueue: { readonly length: number };
}

/** Fraction of replies whose latency is measured (1 in N) — keeps clock reads off most commands. */
const SAMPLE_EVERY = 8;
const EWMA_ALPHA = 0.2;
const RECONNECT_MIN_MS = 20;
/** Floor of the per-node bound of unanswered commands (see #maxUnanswered). */
const MIN_UNANSWERED = 1000;
const RECONNECT_MAX_MS = 1000;
/**
 * Internal escape hatch (and the before/after switch of the lean-write
 * benchmark): SLOTWISE_BATCHED_WRITES=0 writes through ioredis' sendCommand
 * with a corked socket, as before the batched write path.
 */
const BATCHED = process.env.SLOTWISE_BATCHED_WRITES !== '0';

/**
 * One cluster node: a multiplexed ioredis standalone connection (lazily
 * connected, reconnected by us so that no command is ever silently re-sent),
 * auto-pipelining by corking the socket for one tick, a circuit breaker and a
 * latency EWMA.
 */
export class NodeHandle {
  /** `host:port` of the node. */
  readonly address: string;
  /** Host part of `address`. */
  readonly host: string;
  /** Port part of `address`. */
  readonly port: number;
  #role: NodeRole;
  readonly #options: ResolvedOptions;
  readonly #events: NodeEvents;
  readonly #breaker: NodeBreaker | undefined;
  #redis: Redis | undefined;
  #pool: DedicatedPool | undefined;
  #connecting: Promise<Redis> | undefined;
  #closed = false;
  #corked: Redis | undefined;
  /** The batched write path of #redis (same connection). */
  #batched: BatchedWrites | undefined;
  #failedConnects = 0;
  #nextConnectAt = 0;
  #sample = 0;
  #latency: number | undefined;
  #commands = 0;
  #connects = 0;
  #losses = 0;
  #timeouts = 0;
  /**
   * Unanswered commands this connection may hold: `maxWaitingCommands`, but
   * never fewer than MIN_UNANSWERED — a small waiting queue (for connect and
   * failovers) must not throttle a healthy node's pipelining.
   */
  readonly #maxUnanswered: number;

  constructor(host: string, port: number, address: string, role: NodeRole, options: ResolvedOptions, events: NodeEvents) {
    this.host = host;
    this.port = port;
    this.address = address;
    this.#role = role;
    this.#options = options;
    this.#events = events;
    this.#maxUnanswered = Math.max(options.maxWaitingCommands, MIN_UNANSWERED);
    const cb = options.circuitBreaker;
    this.#breaker = cb.enabled
      ? new NodeBreaker(() => this.#probe(), {
          failureThreshold: cb.failureThreshold,
          resetTimeoutMs: cb.resetTimeoutMs,
          probeTimeoutMs: cb.probeTimeoutMs,
          onStateChange: (state) => events.onBreaker(this, state),
        })
      : undefined;
  }

  /** Its role in the current topology. */
  get role(): NodeRole {
    return this.#role;
  }

  /**
   * Set by the topology when a failover changes what this node is. The live
   * connection follows: READONLY when it became a replica (so it serves the
   * reads `readFrom` sends it), READWRITE when it became a master (so if it
   * is demoted again before we notice, reads get MOVED instead of stale data).
   */
  set role(role: NodeRole) {
    if (role === this.#role) return;
    this.#role = role;
    const r = this.#redis;
    if (r !== undefined && r.status === 'ready') sendRoleCommand(r, role);
  }

  /** True when the breaker lets commands through. */
  get available(): boolean {
    return !this.#closed && (this.#breaker === undefined || this.#breaker.allows);
  }

  /** State of its circuit breaker (`closed` when breakers are disabled). */
  get breakerState(): BreakerState {
    return this.#breaker?.state ?? 'closed';
  }

  /** Latency EWMA in ms, undefined before the first sampled reply. */
  get latencyMs(): number | undefined {
    return this.#latency;
  }

  /** This node's pool of dedicated connections (created on first use). */
  get pool(): DedicatedPool {
    this.#pool ??= new DedicatedPool(this.host, this.port, this.address, this.#options);
    return this.#pool;
  }

  /** Whether the handle was closed (the node left the map, or the client closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The pool's counters, undefined while no dedicated connection was ever asked for (reading does not create the pool). */
  get poolStats(): PoolStats | undefined {
    return this.#pool?.stats;
  }

  /** Live counters of this node. */
  get stats(): NodeStats {
    return {
      address: this.address,
      role: this.#role,
      connection: this.#closed ? 'closed' : this.#redis?.status === 'ready' ? 'ready' : this.#connecting ? 'connecting' : 'idle',
      breaker: this.breakerState,
      // ioredis keeps written-but-unanswered commands in commandQueue; reading
      // its length here keeps per-command bookkeeping off the hot path.
      inFlight: (this.#redis as unknown as { commandQueue?: { length: number } } | undefined)?.commandQueue?.length ?? 0,
      commands: this.#commands,
      connects: this.#connects,
      connectionLosses: this.#losses,
      timeouts: this.#timeouts,
      latencyMs: this.#latency,
    };
  }

  /**
   * @internal The executor's write: one command (preceded by ASKING when
   * `asking`) on the multiplexed connection; returns the command's promise.
   * Rejects with CircuitOpenError when the breaker is open and
   * ConnectionError(maybeSent: false) when no connection can be had.
   */
  submit(cmd: Command, asking = false): Promise<unknown> {
    const r = this.#redis;
    if (r !== undefined && r.status === 'ready' && (this.#breaker === undefined || this.#breaker.allows)) {
      return this.#write(r, cmd, asking);
    }
    return this.#submitSlow(cmd, asking);
  }

  /**
   * @internal The executor's lean write: `out` (preceded by ASKING when
   * `asking`) on the multiplexed connection, answered through `out` itself.
   * Never throws; CircuitOpenError, ConnectionError(maybeSent: false),
   * QueueFullError and encoding errors arrive at `out.reject`.
   */
  send(out: Outgoing, asking = false): void {
    const r = this.#redis;
    const b = this.#batched;
    if (b !== undefined && r !== undefined && b.redis === r && r.status === 'ready' && (this.#breaker === undefined || this.#breaker.allows)) {
      if ((r as unknown as Queued).commandQueue.length >= this.#maxUnanswered) {
        out.reject(this.#queueFull(out.name));
        return;
      }
      this.#commands++;
      b.send(out, asking);
      return;
    }
    // Not connected, breaker, or the batched path switched off: through an ioredis Command.
    const cmd = new Command(out.name, out.args as (string | Buffer)[], { replyEncoding: out.replyEncoding });
    this.submit(cmd, asking).then((v) => out.replied(v), (e: Error) => out.reject(e));
  }

  async #submitSlow(cmd: Command, asking: boolean): Promise<unknown> {
    if (this.#breaker !== undefined && !this.#breaker.allows) throw new CircuitOpenError(this.address);
    const r = await this.#connection();
    return this.#write(r, cmd, asking);
  }

  #write(r: Redis, cmd: Command, asking: boolean): Promise<unknown> {
    // A node that stopped answering (SIGSTOP, a stuck server) must not hold
    // an unbounded backlog: beyond the bound of unanswered commands, refuse.
    if ((r as unknown as Queued).commandQueue.length >= this.#maxUnanswered) {
      cmd.promise.catch(() => undefined);
      return Promise.reject(this.#queueFull(String(cmd.name)));
    }
    const b = this.#batched;
    if (b !== undefined && b.redis === r) {
      this.#commands++;
      return b.write(cmd, asking);
    }
    if (this.#options.autoPipelining && this.#corked !== r) {
      // Every command written until the next tick leaves in one write.
      this.#corked = r;
      r.stream.cork();
      process.nextTick(() => {
        this.#corked = undefined;
        r.stream.uncork();
      });
    }
    this.#commands++;
    // ASKING must immediately precede the command on this connection;
    // nothing can be written between two synchronous sendCommand calls.
    return asking ? writeAsking(r, cmd) : writeCommand(r, cmd);
  }

  #queueFull(name: string): QueueFullError {
    const NAME = name.toUpperCase();
    return new QueueFullError(
      `${this.#maxUnanswered} commands are already waiting for a reply from ${this.address} (maxWaitingCommands); ${NAME} was not sent`,
      { address: this.address, command: NAME },
    );
  }

  /** @internal Starts a latency sample for 1 in SAMPLE_EVERY commands; returns 0 when not sampling. */
  sampleStart(): number {
    return ++this.#sample % SAMPLE_EVERY === 0 ? performance.now() : 0;
  }

  /** @internal A reply (success or error reply) arrived for a command sent here. */
  replied(sampleStart: number): void {
    this.#breaker?.recordSuccess();
    if (sampleStart !== 0) {
      const ms = performance.now() - sampleStart;
      this.#latency = this.#latency === undefined ? ms : this.#latency + EWMA_ALPHA * (ms - this.#latency);
    }
  }

  /** @internal A command sent here passed its deadline without a reply. */
  timedOut(): void {
    this.#timeouts++;
    this.#breaker?.recordFailure();
  }

  /** Runs one command on the multiplexed connection (admin use: topology, PING). */
  call(name: string, ...args: (string | number | Buffer)[]): Promise<unknown> {
    const bad = commandProblem(name, args);
    if (bad !== undefined) return Promise.reject(bad);
    return this.submit(new Command(name, args, { replyEncoding: 'utf8' }));
  }

  /** The ready connection, connecting once (single-flight) when needed. */
  #connection(): Promise<Redis> {
    const r = this.#redis;
    if (r !== undefined && r.status === 'ready') return Promise.resolve(r);
    if (this.#connecting) return this.#connecting;
    if (this.#closed) return Promise.reject(new ConnectionError(`Node ${this.address} was removed from the cluster map`, { address: this.address }));
    const wait = this.#nextConnectAt - Date.now();
    if (wait > 0) {
      return Promise.reject(new ConnectionError(`Not connected to ${this.address}; next attempt in ${wait} ms`, { address: this.address }));
    }
    this.#connecting = this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<Redis> {
    let redis: Redis;
    const openedAs = this.#role;
    try {
      redis = await openConnection(this.host, this.port, this.#options, undefined, openedAs === 'replica');
    } catch (err) {
      this.#failedConnects++;
      this.#nextConnectAt = Date.now() + Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** (this.#failedConnects - 1));
      // A refused login or TLS handshake is final for the command (retrying the
      // same secrets would only hammer the node); anything else may be transient.
      const refused = err instanceof AuthError || err instanceof TlsError || err instanceof InvalidArgumentError;
      const notSent = refused ? (err as Error) : new ConnectionError(`Cannot connect to ${this.address}: ${(err as Error).message}`, {
        address: this.address, cause: err, maybeSent: false,
      });
      this.#breaker?.recordFailure();
      this.#events.onConnectionFailure(this, notSent);
      throw notSent;
    }
    if (this.#closed) {
      redis.disconnect();
      throw new ConnectionError(`Node ${this.address} was removed from the cluster map`, { address: this.address });
    }
    if (this.#events.prepare !== undefined) {
      await this.#events.prepare(this, redis);
      if (this.#closed) {
        redis.disconnect();
        throw new ConnectionError(`Node ${this.address} was removed from the cluster map`, { address: this.address });
      }
    }
    this.#failedConnects = 0;
    this.#nextConnectAt = 0;
    this.#connects++;
    this.#redis = redis;
    // The role changed while the connection was opening (the setter had no
    // ready connection to tell): without this a replica's connection would
    // lack READONLY and answer every read with MOVED to its master.
    if (this.#role !== openedAs) sendRoleCommand(redis, this.#role);
    this.#batched = BATCHED ? new BatchedWrites(redis, this.#options.autoPipelining) : undefined;
    redis.once('end', () => this.#onEnd(redis));
    this.#events.onConnected(this);
    return redis;
  }

  #onEnd(redis: Redis): void {
    if (this.#redis !== redis) return;
    this.#redis = undefined;
    this.#batched = undefined;
    if (this.#closed) return;
    this.#losses++;
    this.#breaker?.recordFailure();
    this.#events.onConnectionFailure(this, new ConnectionError(`Connection to ${this.address} lost`, { address: this.address, maybeSent: true }));
  }

  /** Half-open probe: a fresh connection (when needed) and a PING. */
  async #probe(): Promise<unknown> {
    this.#nextConnectAt = 0;
    const r = await this.#connection();
    return r.ping();
  }

  /**
   * Re-AUTHs the live multiplexed connection (AUTH is pipelined behind the
   * commands already written, so none of them is dropped) and the pool's
   * connections. `creds` come from one provider call per client.
   */
  async reauthenticate(creds: Credentials | undefined): Promise<void> {
    const r = this.#redis;
    await Promise.all([
      r !== undefined && r.status === 'ready' ? reauth(r, creds) : undefined,
      this.#pool?.reauthenticate(creds),
    ]);
  }

  /**
   * Closes the connection. `graceful` sends QUIT, letting already-written
   * commands get their replies first.
   */
  async close(graceful = true): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#breaker?.shutdown();
    const pool = this.#pool?.close();
    const r = this.#redis ?? (await this.#connecting?.catch(() => undefined));
    this.#redis = undefined;
    this.#batched = undefined;
    await Promise.all([pool, r && closeConnection(r, graceful)]);
  }
}

/** READONLY for a replica's connection (so it serves reads), READWRITE for a master's. */
function sendRoleCommand(redis: Redis, role: NodeRole): void {
  const cmd = new Command(role === 'replica' ? 'readonly' : 'readwrite', []);
  cmd.promise.catch(() => undefined);
  redis.sendCommand(cmd);
}
