/**
 * A node factory for ClientCore that opens no socket: every node is a real
 * NodeHandle whose `submit` (the executor's write) is answered by a script.
 * For unit tests of the retry loop through the Router seam — the cases are
 * forced deterministically here and run against real clusters in
 * test/integration and test/chaos.
 */
import type { Command } from 'ioredis';
import { ReplyError } from 'ioredis';
import { ClientCore, type NodeFactory } from '../../lib/client-core.js';
import type { ClusterClientEvents } from '../../lib/client-events.js';
import { NodeHandle } from '../../lib/node/node-handle.js';
import type { ClusterClientOptions } from '../../lib/options.js';

/** One write as the fake cluster saw it. */
export interface Seen {
  readonly address: string;
  /** Lower-case command name, then its arguments as strings. */
  readonly command: readonly string[];
  readonly asking: boolean;
}

/**
 * Answers one write: a value, an Error to reject with (a ReplyError for a
 * server error reply), or a promise (e.g. one that never settles).
 * `undefined` lets the default answer ('OK') through.
 */
export type Script = (seen: Seen, nth: number) => unknown;

/** Two masters: A serves slots 0–8191, B 8192–16383 (ports are never opened). */
export const A = '127.0.0.1:7001';
export const B = '127.0.0.1:7002';

function shard(from: number, to: number, port: number, id: string): unknown[] {
  return ['slots', [from, to], 'nodes', [['id', id.repeat(40), 'port', port, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master', 'replication-offset', 1, 'health', 'online']]];
}
const SHARDS = [shard(0, 8191, 7001, 'a'), shard(8192, 16383, 7002, 'b')];

/** A server error reply as ioredis raises it. */
export function reply(text: string): Error {
  return new ReplyError(text);
}

export interface ScriptedCluster {
  readonly core: ClientCore;
  /** Data-command writes, in order (topology queries left out). */
  readonly seen: Seen[];
  readonly events: { name: keyof ClusterClientEvents; args: unknown[] }[];
  /** Replaces the script. */
  script(s: Script): void;
  close(): Promise<void>;
}

/** A ClientCore over the two fake masters, connected. */
export async function scriptedCluster(options: Partial<ClusterClientOptions> = {}): Promise<ScriptedCluster> {
  const seen: Seen[] = [];
  const events: { name: keyof ClusterClientEvents; args: unknown[] }[] = [];
  let script: Script = () => undefined;
  const create: NodeFactory = (host, port, address, role) => {
    class ScriptedNode extends NodeHandle {
      override submit(cmd: Command, asking = false): Promise<unknown> {
        const command = [cmd.name, ...cmd.args.map((a) => (Buffer.isBuffer(a) ? a.toString() : String(a)))];
        if (cmd.name === 'cluster' && command[1] === 'shards') return Promise.resolve(SHARDS);
        if (cmd.name === 'cluster' && command[1] === 'info') return Promise.resolve('cluster_state:ok\r\ncluster_current_epoch:1\r\n');
        const s: Seen = { address, command, asking };
        seen.push(s);
        try {
          const out = script(s, seen.length);
          if (out instanceof Error) return Promise.reject(out);
          return Promise.resolve(out === undefined ? 'OK' : out);
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    return new ScriptedNode(host, port, address, role, core.options, { onBreaker: () => undefined, onConnectionFailure: () => undefined, onConnected: () => undefined });
  };
  const emit = (name: keyof ClusterClientEvents, ...args: unknown[]) => {
    events.push({ name, args });
    return true;
  };
  const core: ClientCore = new ClientCore(
    {
      rootNodes: [A, B],
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 5,
      // The breaker is scripted (CircuitOpenError), not counted.
      circuitBreaker: { enabled: false },
      ...options,
    },
    emit as ConstructorParameters<typeof ClientCore>[1],
    () => false,
    create,
  );
  await core.connect();
  return {
    core,
    seen,
    events,
    script: (s) => (script = s),
    close: () => core.disconnect(async () => undefined),
  };
}
