/**
 * Public types of the engine: node descriptions and the reports fault and
 * topology helpers return (designed for chaos tests: they carry timestamps).
 */
import type { SlotRange } from './cluster-state.js';
import type { NodeState } from './node-process.js';

export type { SlotRange } from './cluster-state.js';
export type { NodeState } from './node-process.js';

/** `host:port` of a node clients can connect to. */
export interface NodeAddress {
  /** Host (always a loopback address for local nodes). */
  readonly host: string;
  /** Client port. */
  readonly port: number;
}

/** One node of a started cluster, as the cluster currently reports it. */
export interface ClusterNodeInfo extends NodeAddress {
  /** 40-hex node id (stable across restarts: it lives in the node's nodes.conf). */
  readonly id: string;
  /** Cluster bus port. */
  readonly busPort: number;
  /** IP the node announces; differs from `host` for containers on a bridge network (reach them through `getNatMap()`). */
  readonly announcedIp: string;
  /** Name the node announces (`withHostnames()`), else undefined. */
  readonly hostname?: string;
  /** Its role now. */
  readonly role: 'master' | 'replica';
  /** Id of the master a replica follows; null for masters. */
  readonly masterId: string | null;
  /** Client port of that master, when it is one of ours; null for masters. */
  readonly masterPort: number | null;
  /** Owned slot ranges, ascending (empty for replicas). */
  readonly slots: readonly SlotRange[];
  /** Pid of the redis-server process; null while killed (or for container nodes). */
  readonly pid: number | null;
  /** What the engine did to the node: `up`, `paused` (SIGSTOP), `killed` (SIGKILL, not restarted). */
  readonly state: NodeState;
  /** Raw `CLUSTER NODES` flags as seen by a live peer (e.g. `master,fail`). */
  readonly flags: readonly string[];
}

/** Options of helpers that wait for the cluster to settle. */
export interface ConvergenceOptions {
  /**
   * Return only once the cluster has converged again (see each helper).
   * `false` returns right after the fault was injected, to act mid-fault.
   * @default true
   */
  readonly waitForConvergence?: boolean;
  /** Upper bound for the wait. @default 30000 + 3 × nodeTimeoutMs */
  readonly timeoutMs?: number;
}

/** What `killNode()` did and observed. */
export interface KillReport {
  /** Client port of the killed node. */
  readonly port: number;
  /** Its node id. */
  readonly id: string;
  /** The node was a master (with or without slots) when killed. */
  readonly wasMaster: boolean;
  /** `Date.now()` right after the process was seen to exit. */
  readonly killedAt: number;
  /** The replica that took over, with `Date.now()` when it first reported itself master (polled every ~20 ms). */
  readonly promoted?: {
    /** Client port of the new master. */
    readonly port: number;
    /** Its node id. */
    readonly id: string;
    /** `Date.now()` when it first reported itself master. */
    readonly at: number;
  };
  /** True when a master with slots died without a replica to take over: those slots stay uncovered. */
  readonly slotsUncovered: boolean;
  /** `Date.now()` when the convergence wait ended (undefined when not waited for). */
  readonly convergedAt?: number;
}

/** What `pauseNode()` did. */
export interface PauseReport {
  /** Client port of the paused node. */
  readonly port: number;
  /** `Date.now()` right after SIGSTOP was sent. */
  readonly pausedAt: number;
}

/** What `resumeNode()` / `restartNode()` did and observed. */
export interface RecoverReport {
  /** Client port of the node. */
  readonly port: number;
  /** Its node id. */
  readonly id: string;
  /** `Date.now()` when SIGCONT was sent / the restarted process accepted connections. */
  readonly at: number;
  /** Role after convergence (a master that was failed over comes back as a replica). */
  readonly role: 'master' | 'replica';
  /** `Date.now()` when the convergence wait ended (undefined when not waited for). */
  readonly convergedAt?: number;
}

/** What `restartNodeWithNewIp()` did and observed. */
export interface MoveReport extends RecoverReport {
  /** IP the node announced before (a loopback address, or its container's IP on a bridge network). */
  readonly previousIp: string;
  /** IP it announces now. */
  readonly ip: string;
  /** `Date.now()` once the old instance was gone. */
  readonly killedAt: number;
}

/** `CLUSTER FAILOVER` flavour. */
export type FailoverMode = 'default' | 'force' | 'takeover';

/** What `failover()` did and observed. */
export interface FailoverReport {
  /** Client port of the replica that was promoted. */
  readonly port: number;
  /** The flavour that was asked for. */
  readonly mode: FailoverMode;
  /** Client port of the master that was replaced, when known. */
  readonly previousMasterPort: number | null;
  /** `Date.now()` when CLUSTER FAILOVER was sent. */
  readonly requestedAt: number;
  /** `Date.now()` when the node first reported itself master. */
  readonly promotedAt: number;
  /** `Date.now()` when every node agreed on the new master. */
  readonly convergedAt: number;
}

/** Hooks a test can use to act at precise points of a live migration. */
export interface ReshardHooks {
  /**
   * After the keys of `slot` were moved to the target, before the slot is
   * assigned to it (`SETSLOT NODE`): the source now answers `-ASK` for them.
   */
  afterSlotKeysMigrated?(slot: number): Promise<void> | void;
  /** After `slot` was assigned to the target on every master. */
  afterSlotFinalized?(slot: number): Promise<void> | void;
}

/** Arguments of `reshard()`. */
export interface ReshardOptions {
  /** Client port of the master giving slots. */
  readonly from: number;
  /** Client port of the master receiving them. */
  readonly to: number;
  /** How many slots (the lowest ones `from` owns), or an explicit list of slots `from` owns. */
  readonly slots: number | readonly number[];
  /** Keys per `MIGRATE` call. @default 100 */
  readonly batchSize?: number;
  /** Slots opened (IMPORTING/MIGRATING) and finalized together per round; bigger is faster. @default 64 */
  readonly slotsPerRound?: number;
  /** Callbacks at precise points of each slot's migration (for tests of the ASK window). @default undefined (none) */
  readonly hooks?: ReshardHooks;
  /** Stops after the current round (no slot is left half-migrated); the promise rejects with the reason. @default undefined */
  readonly signal?: AbortSignal;
  /** Upper bound of the final agreement wait. @default 30000 */
  readonly timeoutMs?: number;
}

/** What `reshard()` moved. */
export interface ReshardReport {
  /** The slots that moved, ascending. */
  readonly slots: readonly number[];
  /** Keys moved with MIGRATE. */
  readonly keys: number;
  /** Wall time of the whole reshard. */
  readonly durationMs: number;
  /**
   * Times the source or target master changed mid-migration (failover, kill)
   * and the migration was re-pointed to the new master and finished.
   */
  readonly failoversSurvived: number;
}

/** A node added by `addMaster()` / `addReplica()`. */
export interface AddedNode {
  /** Client port of the new node. */
  readonly port: number;
  /** Its node id. */
  readonly id: string;
  /** For replicas: the client port of their master. */
  readonly masterPort?: number;
}

/** What `removeNode()` did. */
export interface RemoveReport {
  /** Client port of the removed node. */
  readonly port: number;
  /** Its node id. */
  readonly id: string;
  /** Slots resharded away before removal. */
  readonly movedSlots: number;
  /** Replicas of the removed master, now following another master (client ports). */
  readonly repointedReplicas: readonly number[];
}
