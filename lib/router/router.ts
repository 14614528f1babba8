import type { Redis } from 'ioredis';
import type { Classified } from '../core/classify.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { NodeRef } from '../node/registry.js';
import type { ResolvedOptions } from '../options.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import type { ExecOptions, RequestSequencer, RouteOptions } from './request.js';

/** Which nodes of the map: masters, replicas or every node. */
export type NodeRoleFilter = 'master' | 'replica' | 'all';

/** The node a MOVED named, after the map was patched. */
export interface RedirectTarget {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

/**
 * Internal (not exported by the package): the one seam between the client
 * core and everything built on it (pipeline, transaction, scan, cluster-wide
 * operations, pub/sub). Owned and implemented by ClientCore; each consumer
 * gets this object and nothing else of the core — no closure bundles, no
 * ClusterClient. See docs/ARCHITECTURE.md.
 */
export interface Router {
  readonly options: ResolvedOptions;
  /** True once the client is closing or closed. */
  readonly closed: boolean;
  /** Resolves once the first map is known (connecting on first use); rejects when closed. */
  ready(): Promise<void>;

  /**
   * Runs one command through the retry loop (one deadline). Without
   * `route.node`, a multi-key command whose keys span slots is split per
   * slot and an all-shards/all-nodes command fans out; `route.sequencer`
   * keeps a pipeline's per-slot order. With `route.node` it runs on that
   * node only and a MOVED/ASK is handed back instead of followed.
   */
  execute(name: string, args: readonly unknown[], opts?: ExecOptions, route?: RouteOptions): Promise<unknown>;
  /**
   * Runs a pipeline's or transaction's `exec()` as one observed operation
   * (the `slotwise:batch` TracingChannel, one span, one duration).
   */
  traceBatch<T>(kind: 'pipeline' | 'transaction', size: number, run: () => Promise<T>): Promise<T>;
  /** A sequencer for one pipeline's requests (see SlotSequencer). */
  sequencer(): RequestSequencer;

  /** The current topology snapshot (undefined before the first discovery). */
  readonly current: TopologySnapshot | undefined;
  /** Resolves at the next topology change. */
  nextChange(): Promise<void>;
  /** Resolves after `ms`, or earlier at the next topology change. */
  pause(ms: number): Promise<void>;
  /** Rediscovers the map now (single-flight); resolves when done, never rejects. */
  refresh(reason: string): Promise<void>;

  /** The handle of one node of the map. */
  node(d: NodeRef): NodeHandle;
  /** Handles of the map's nodes with a role; `live` skips nodes the map marks failed. */
  nodes(role: NodeRoleFilter, live?: boolean): NodeHandle[];

  /** The master serving `slot` now; TopologyError (and a refresh) when none does. */
  masterOf(slot: number): NodeHandle;
  /** Borrows a dedicated connection to `node` (PoolError when its pool stays exhausted). */
  acquire(node: NodeHandle): Promise<DedicatedConnection>;
  /**
   * Classifies an error of a command run on a dedicated connection to
   * `node` and updates the map from it; for MOVED/ASK `target` is the node named.
   */
  learn(err: unknown, node: NodeHandle, slot: number | undefined): { c: Classified; target?: NodeHandle };
  /** For a MOVED reply seen outside the retry loop: patches the map and returns the target. */
  followMoved(err: unknown, fromHost: string): RedirectTarget | undefined;
  /** Opens a standalone connection (the client's settings) that the caller owns and closes. */
  openConnection(host: string, port: number, name: string): Promise<Redis>;
}
