import diagnostics from 'node:diagnostics_channel';
import type { BreakerState } from './node/breaker.js';
import type { NodeRole } from './node/node-handle.js';
import type { CommandDiagnostics, RedirectInfo } from './router/executor.js';
import type { TopologySnapshot } from './topology/snapshot.js';

/** Events of a ClusterClient (`client.on(name, listener)`). */
export interface ClusterClientEvents {
  /** A new topology snapshot replaced the previous one. */
  topology: [snapshot: TopologySnapshot, previous: TopologySnapshot | undefined, reason: string];
  /** A node appeared in the map. */
  'node:added': [info: {
    /** `host:port` of the node. */
    address: string;
    /** Its role in the new map. */
    role: NodeRole;
  }];
  /** A node left the map; its connection was closed. */
  'node:removed': [info: {
    /** `host:port` of the node. */
    address: string;
  }];
  /** A command followed a MOVED or ASK. */
  redirect: [info: RedirectInfo];
  /** A node's circuit breaker changed state. */
  breaker: [info: {
    /** `host:port` of the node. */
    address: string;
    /** The breaker's new state. */
    state: BreakerState;
  }];
  /**
   * A background problem nobody awaits (a failed periodic refresh). Emitted
   * only while someone listens, so an unlistened client never crashes.
   */
  error: [error: Error];
}

/** A finished topology refresh (the `slotwise:topology` diagnostics channel). */
export interface RefreshDiagnostics {
  /** Why the refresh ran, e.g. `connect`, `moved`, `periodic`, `unreachable`. */
  readonly reason: string;
  /** Wall time of the refresh. */
  readonly durationMs: number;
  /** How many nodes were asked for their view of the cluster. */
  readonly asked: number;
  /** How many answers agreed with the view that was chosen. */
  readonly votes: number;
  /** How many answers disagreed with it. */
  readonly dissent: number;
  /** Whether the chosen view differs from the previous snapshot. */
  readonly changed: boolean;
  /** Why the refresh failed, when it did (the previous snapshot stays). */
  readonly error?: Error;
}

/**
 * `node:diagnostics_channel` channels, so tracing needs no monkey-patching:
 * `slotwise:command` receives a CommandDiagnostics per settled command,
 * `slotwise:topology` a RefreshDiagnostics per refresh.
 */
export const channels = {
  /** `slotwise:command`: one CommandDiagnostics per settled command. */
  command: diagnostics.channel('slotwise:command'),
  /** `slotwise:topology`: one RefreshDiagnostics per topology refresh. */
  topology: diagnostics.channel('slotwise:topology'),
} as const;

export type { CommandDiagnostics, RedirectInfo };
