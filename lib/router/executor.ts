import {
  ClientClosedError,
  QueueFullError,
  RedisReplyError,
  TopologyError,
  UnknownCommandError,
} from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { NodeRegistry } from '../node/registry.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { Topology } from '../topology/topology.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { blockSpec, CONNECTION_BOUND_WAITS, withRemaining } from './blocking.js';
import { commandInfo, isIdempotent } from './commands.js';
import { refusedOnSharedConnection, slotOfKeys } from './keys.js';
import { DeadlineQueue } from './deadlines.js';
import { pickReadNode, type NodeLiveness } from './read-from.js';
import { MigrationWatch, type MigrationWatchEvents } from './migration-watch.js';
import { ParkingLot } from './parking.js';
import { classify } from '../core/classify.js';
import { backoffMs } from '../core/retry.js';
import { flatArgs } from '../node/outgoing.js';
import { ANY_SLOT, Request, type ExecOptions, type ReplySink, type RedirectInfo, type RequestSequencer, type RouteOptions } from './request.js';
import { SlotSequencer } from './sequencer.js';
import type { CommandObserver } from './observer.js';

export type { CommandDiagnostics, ExecOptions, RedirectInfo, RouteOptions } from './request.js';

const NO_OPTIONS: ExecOptions = Object.freeze({});
const NO_ROUTE: RouteOptions = Object.freeze({});

export interface ExecutorDeps {
  readonly options: ResolvedOptions;
  readonly topology: Topology;
  readonly nodes: NodeRegistry;
  onRedirect(info: RedirectInfo): void;
  /** Telemetry: tracing, metrics and the `slotwise:command` diagnostics. */
  readonly observer: CommandObserver;
  /** `migration:stuck` / `migration:cleared` (see MigrationWatch). */
  readonly migrations: MigrationWatchEvents;
}

/**
 * The retry loop: one per command, one deadline. Routes by slot through the
 * current snapshot, follows MOVED (patching the map) and ASK (ASKING +
 * command back-to-back), waits with jittered backoff — woken early by any
 * topology change — for the slot's owner on TRYAGAIN, CLUSTERDOWN, LOADING,
 * connection loss and open breakers, and never re-sends a non-idempotent
 * write that may already have run. Blocking commands take the same loop on a
 * pooled dedicated connection, re-issued with the time left when their slot moves.
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  readonly #options: ResolvedOptions;
  readonly #deadlines: DeadlineQueue<Request>;
  readonly #parked: ParkingLot;
  readonly #migrations: MigrationWatch;
  /** Requests with their own deadline timer (not in #deadlines' order). */
  readonly #timed = new Set<Request>();
  readonly #live: NodeLiveness;
  readonly #expire = (req: Request) => this.#expireRequest(req);
  readonly #resume = (req: Request) => this.#attempt(req);
  /** Replies of shared-connection attempts: to the node of that attempt. */
  readonly #sink: ReplySink = {
    reply: (req, value) => this.#onReply(req, req.node!, value),
    error: (req, err) => this.#onError(req, req.node!, err),
  };
  #closed: Error | undefined;
  #anyMaster = 0;
  #failed = 0;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    this.#options = deps.options;
    this.#parked = new ParkingLot(deps.options.maxWaitingCommands, (req) => this.#attempt(req), () => deps.topology.nextChange());
    this.#migrations = new MigrationWatch(deps.options.maxRedirections, deps.migrations);
    this.#deadlines = new DeadlineQueue(Math.min(100, Math.max(5, Math.floor(deps.options.commandTimeoutMs / 10))));
    this.#live = {
      available: (address) => deps.nodes.get(address)?.available ?? true,
      latencyMs: (address) => deps.nodes.get(address)?.latencyMs,
    };
  }

  /** Commands not yet settled. */
  get pending(): number {
    return this.#deadlines.live;
  }

  /** Commands that settled with an error. */
  get failed(): number {
    return this.#failed;
  }

  /**
   * Runs one command. `name` is case-insensitive; `args` are flattened the
   * ioredis way (arrays spread, objects for MSET/HSET expanded). `route`
   * pins the request to one node or sequences it within a group.
   */
  execute(name: string, args: readonly unknown[], opts: ExecOptions = NO_OPTIONS, route: RouteOptions = NO_ROUTE): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    const lower = name.toLowerCase();
    const info = commandInfo(lower);
    if (info === undefined) return Promise.reject(new UnknownCommandError(name));
    if (info.pinsConnection || CONNECTION_BOUND_WAITS.has(lower)) return Promise.reject(refusedOnSharedConnection(info));
    const encoding = opts.buffer ? null : 'utf8';
    let flat: unknown[];
    let slot: number;
    try {
      flat = flatArgs(lower, args);
      slot = route.node !== undefined ? ANY_SLOT : route.slot ?? slotOfKeys(info, flat);
    } catch (err) {
      return Promise.reject(err);
    }
    const block = info.blocking ? blockSpec(lower, flat) : undefined;
    const now = Date.now();
    const blockUntil = block === undefined ? 0 : block.blockMs === 0 ? Infinity : now + block.blockMs;
    // A blocking call may legitimately take its whole block time, plus the usual deadline.
    const timeoutMs = opts.timeoutMs ?? (block ? (block.blockMs === 0 ? Infinity : block.blockMs + this.#options.commandTimeoutMs) : this.#options.commandTimeoutMs);
    const req = new Request({
      info, args: flat, slot, encoding,
      deadline: now + timeoutMs, timeoutMs, traced: this.#deps.observer.observe(), block, blockUntil,
      pinned: route.node, seq: slot === ANY_SLOT ? undefined : route.sequencer,
    }, this.#expire, this.#sink);
    if (opts.timeoutMs === undefined && block === undefined) {
      this.#deadlines.push(req);
    } else {
      this.#deadlines.count();
      this.#timed.add(req);
      if (timeoutMs !== Infinity) req.timer = setTimeout(this.#expire, timeoutMs, req);
    }
    if (opts.signal) this.#abortOn(req, opts.signal);
    if (req.traced) this.#deps.observer.start(req, () => this.#attempt(req));
    else this.#attempt(req);
    return req.promise;
  }

  #abortOn(req: Request, signal: AbortSignal): void {
    const onAbort = () => this.#settle(req, undefined, abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const off = () => signal.removeEventListener('abort', onAbort);
    req.promise.then(off, off);
  }

  /**
   * A sequencer for one group of requests (a pipeline): pass it in the
   * `route` of each, in the caller's order, to keep that order per slot.
   */
  sequencer(): RequestSequencer {
    return new SlotSequencer(this.#resume);
  }

  #attempt(req: Request): void {
    if (req.settled) return;
    if (req.seq !== undefined && !req.seq.admit(req)) return;
    let node = req.target ?? req.pinned;
    let asking = false;
    if (node !== undefined) {
      asking = req.asking;
      req.target = undefined;
      req.asking = false;
    } else {
      const snap = this.#deps.topology.current;
      if (snap === undefined) {
        this.#park(req, null);
        return;
      }
      node = this.#route(snap, req);
      if (node === undefined) {
        req.lastError = new TopologyError(
          req.slot !== ANY_SLOT && snap.shardOf(req.slot) !== undefined
            ? `No usable replica serves slot ${req.slot} (readFrom: 'replica')`
            : req.slot === ANY_SLOT ? 'No reachable master' : `No master serves slot ${req.slot}`,
          {},
          req.slot === ANY_SLOT ? {} : { slot: req.slot },
        );
        this.#deps.topology.requestRefresh('uncovered');
        this.#backoff(req);
        return;
      }
    }
    req.attempts++;
    req.node = node;
    req.inFlight = true;
    req.sentAt = Date.now();
    req.seq?.left(req);
    if (req.block !== undefined) {
      this.#attemptDedicated(req, node, asking);
      return;
    }
    req.sampleStart = node.sampleStart();
    node.send(req, asking);
  }

  /** A blocking call: borrow a dedicated connection, block for the time left. */
  #attemptDedicated(req: Request, node: NodeHandle, asking: boolean): void {
    const remaining = req.blockUntil - Date.now();
    if (req.attempts > 1 && remaining <= 0) {
      // The block time ran out while the slot was moving: same answer the server gives.
      this.#settle(req, null, undefined);
      return;
    }
    node.pool.acquire().then((conn: DedicatedConnection) => {
      if (req.settled) {
        void conn.release();
        return;
      }
      req.conn = conn;
      const args = req.attempts === 1 || req.blockUntil === Infinity ? req.args : withRemaining(req.args, req.block!, req.blockUntil - Date.now());
      if (asking) conn.send('asking', []).catch(() => undefined);
      conn.send(req.info.name, args, req.encoding === null).then(
        (value) => {
          req.conn = undefined;
          void conn.release();
          this.#onReply(req, node, value);
        },
        (err) => {
          req.conn = undefined;
          // A connection that failed mid-command is in an unknown state.
          void (err instanceof Error && err.name === 'ReplyError' ? conn.release() : conn.destroy());
          this.#onError(req, node, err);
        },
      );
    }, (err) => this.#onError(req, node, err));
  }

  #route(snap: TopologySnapshot, req: Request): NodeHandle | undefined {
    const nodes = this.#deps.nodes;
    if (req.slot === ANY_SLOT) {
      const shards = snap.shards;
      for (let i = 0; i < shards.length; i++) {
        const m = shards[(this.#anyMaster + i) % shards.length]!.master;
        const h = nodes.node(m);
        if (h.available && m.health !== 'failed') {
          this.#anyMaster = (this.#anyMaster + i + 1) % shards.length;
          return h;
        }
      }
      return undefined;
    }
    const shard = snap.shardOf(req.slot);
    if (shard === undefined) return undefined;
    const policy = this.#options.readFrom;
    const d = policy === 'master' || !req.info.readOnly || req.block !== undefined
      ? shard.master
      : pickReadNode(shard, policy, this.#live, req.slot);
    return d === undefined ? undefined : nodes.node(d);
  }

  #masterOf(req: Request): NodeHandle | undefined {
    const m = req.slot === ANY_SLOT ? undefined : this.#deps.topology.current?.shardOf(req.slot)?.master;
    return m === undefined ? undefined : this.#deps.nodes.node(m);
  }

  #onReply(req: Request, node: NodeHandle, value: unknown): void {
    node.replied(req.sampleStart);
    if (this.#migrations.open !== 0) this.#migrations.served(req.slot);
    if (req.settled) return;
    this.#settle(req, value, undefined);
  }

  #onError(req: Request, node: NodeHandle, err: unknown): void {
    const c = classify(err, {
      address: node.address,
      command: req.command,
      ...(req.slot === ANY_SLOT ? {} : { slot: req.slot }),
    });
    if (c.kind !== 'connection' && c.kind !== 'breaker') node.replied(req.sampleStart);
    req.inFlight = false;
    if (req.settled) return;
    if (req.pinned !== undefined && (c.kind === 'moved' || c.kind === 'ask' || req.pinned.closed)) {
      // A part that must run on this very node: following a redirect or
      // waiting for a node that left the map would run it somewhere else.
      const reply = () => new RedisReplyError(err instanceof Error ? err.message : String(err), { address: node.address, command: req.command });
      this.#settle(req, undefined, 'error' in c ? c.error : reply());
      return;
    }
    switch (c.kind) {
      case 'moved':
      case 'ask': {
        req.redirections++;
        const to = this.#deps.topology.followRedirect(c.kind, c.slot, c.host, c.port, node.host);
        const info: RedirectInfo = { kind: c.kind, slot: c.slot, from: node.address, to: to.address, command: req.info.name };
        this.#deps.onRedirect(info);
        this.#deps.observer.redirect(req, info);
        // A redirect cycle (a migration that lost a side) or an endless chain:
        // wait like for a failover instead of spinning; the deadline ends it.
        const stuck = this.#migrations.redirect(req, req.attempts, c.slot, node.address, to.address, (err as Error).message, req.command, req.redirections);
        if (stuck !== undefined) {
          req.lastError = stuck;
          this.#deps.topology.requestRefresh('redirect-loop');
          // Not woken by topology changes: in a MOVED ping-pong each answer patches the map.
          this.#backoff(req, false);
          return;
        }
        // Retry at the target itself (not via the map): a MOVED from a replica,
        // or one naming a slot other than ours, must not loop back.
        req.target = this.#deps.nodes.node(to);
        req.asking = c.kind === 'ask';
        this.#attempt(req);
        return;
      }
      case 'wait': {
        req.lastError = new RedisReplyError(err instanceof Error ? err.message : String(err), { address: node.address });
        if (c.refresh) this.#deps.topology.requestRefresh(c.reason);
        // A replica that is loading or has lost its master cannot serve this
        // read, but its master can: go there now unless only replicas may serve.
        const master = node.role === 'replica' && (c.reason === 'loading' || c.reason === 'masterdown') && this.#options.readFrom !== 'replica'
          ? this.#masterOf(req) : undefined;
        if (master !== undefined) {
          req.target = master;
          this.#attempt(req);
          return;
        }
        this.#backoff(req);
        return;
      }
      case 'connection':
        req.lastError = c.error;
        // Idempotence is only asked here, after a loss: no per-command cost.
        // A blocking call whose dedicated connection died (node lost, CLIENT KILL
        // after a credential rotation) is re-issued: had the lost connection
        // already popped an element, its reply is gone whether we retry or not;
        // a retry can only deliver the next one, never take one twice.
        if (c.maybeSent && !this.#options.retryMaybeSentWrites && req.block === undefined && !isIdempotent(req.info, req.args)) {
          this.#settle(req, undefined, c.error);
          return;
        }
        this.#backoff(req);
        return;
      case 'breaker':
        req.lastError = c.error;
        if (this.#options.circuitBreaker.failFast) {
          this.#settle(req, undefined, c.error);
          return;
        }
        this.#backoff(req);
        return;
      case 'final':
        this.#settle(req, undefined, c.error);
        return;
    }
  }

  /** Waits (jittered exponential backoff within the deadline) and tries again. */
  #backoff(req: Request, wakeOnChange = true): void {
    const o = this.#options;
    const delay = backoffMs(req.retries++, o.retryBaseDelayMs, o.retryMaxDelayMs);
    const remaining = req.deadline - Date.now();
    if (remaining <= 0) {
      this.#expireRequest(req);
      return;
    }
    this.#deps.observer.wait(req, waitReason(req.lastError));
    this.#park(req, Math.min(delay, remaining), wakeOnChange);
  }

  /** Parks a request (bounded by `maxWaitingCommands`) until `ms` pass or the topology changes. */
  #park(req: Request, ms: number | null, wakeOnChange = true): void {
    if (this.#parked.tryPark(req, ms, wakeOnChange)) {
      req.seq?.waiting(req);
      return;
    }
    this.#settle(req, undefined, new QueueFullError(
      `${this.#parked.size} commands are already waiting (maxWaitingCommands); ${req.command} rejected`,
      { command: req.command, ...(req.lastError ? { cause: req.lastError } : {}) },
    ));
  }

  /** Retries every parked command now (e.g. a breaker closed). */
  wakeParked(): void {
    this.#parked.wakeAll();
  }

  /** Deadline passed: fail with the reason it could not complete. */
  #expireRequest(req: Request): void {
    if (req.settled) return;
    // Blame the node only if it sat on this attempt for a long time: a command
    // that spent its deadline retrying CLUSTERDOWN on a live node says
    // nothing bad about that node.
    if (req.inFlight && req.block === undefined && Date.now() - req.sentAt >= req.timeoutMs / 2) req.node?.timedOut();
    this.#settle(req, undefined, req.expiryError());
  }

  #settle(req: Request, value: unknown, error: Error | undefined): void {
    if (req.settled) return;
    req.settled = true;
    req.inFlight = false;
    this.#parked.remove(req);
    if (this.#timed.delete(req) && req.timer) clearTimeout(req.timer);
    if (req.conn) {
      // Abandoned while blocked: the connection still has a command pending.
      void req.conn.destroy();
      req.conn = undefined;
    }
    this.#deadlines.settled();
    req.seq?.left(req);
    if (req.traced) this.#deps.observer.settled(req, error);
    if (error) {
      this.#failed++;
      req.fail(error);
    } else req.fulfil(value);
  }

  /** Fails every command still waiting for the first topology (connect failed). */
  failWaitingForTopology(error: Error): void {
    for (const req of this.#parked.list(true)) this.#settle(req, undefined, error);
  }

  /**
   * Resolves when every accepted command has settled (graceful quit).
   * Blocking calls are cut short with ClientClosedError: one blocking
   * forever must not keep a closing client alive.
   */
  drain(): Promise<void> {
    for (const req of [...this.#timed]) {
      if (req.block !== undefined) this.#settle(req, undefined, new ClientClosedError('The client is closing; blocking command abandoned', { command: req.command }));
    }
    return this.#deadlines.idle();
  }

  /** Refuses new commands; with `error`, fails every pending one too. */
  close(error?: Error): void {
    this.#closed ??= new ClientClosedError();
    if (error) {
      for (const req of this.#deadlines.liveEntries()) this.#settle(req, undefined, error);
      for (const req of [...this.#timed]) this.#settle(req, undefined, error);
      for (const req of this.#parked.list()) this.#settle(req, undefined, error);
    }
    this.#deadlines.close();
  }
}

/** A short reason for a wait: the Redis error prefix (TRYAGAIN, CLUSTERDOWN, …) or the error's code. */
function waitReason(err: Error | undefined): string {
  if (err === undefined) return 'uncovered';
  const prefix = (err as { prefix?: unknown }).prefix;
  if (typeof prefix === 'string' && prefix !== '') return prefix;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.name;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}
