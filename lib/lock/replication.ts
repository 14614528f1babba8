import { isReplyError } from '../core/classify.js';
import { ConnectionError, LockNotReplicatedError, RedisReplyError, SlotwiseError } from '../errors.js';
import { runOnConnection } from '../scripts/on-connection.js';
import type { Script } from '../scripts/script.js';
import type { GrantKind } from './lease.js';
import type { LockRuntime } from './runtime.js';
import { parseGrant, type GrantReply } from './scripts.js';

export interface ReplicatedGrant {
  readonly runtime: LockRuntime;
  readonly name: string;
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  /** The grant's key, kind and owner: to take the grant back when it is not replicated. */
  readonly grantKey: string;
  readonly kind: GrantKind;
  readonly owner: string;
  readonly channel: string;
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * One grant attempt followed by WAIT on the same connection: WAIT counts
 * the replicas that have every write made on ITS connection, so the grant
 * and the WAIT must share one. A grant fewer than `replicas` acknowledged
 * is released right there and LockNotReplicatedError is thrown: a failover
 * now could promote a replica that never saw it and grant the lock twice.
 */
export async function grantReplicated(p: ReplicatedGrant): Promise<GrantReply> {
  try {
    return await p.runtime.client.withConnection(p.grantKey, async (conn) => {
      const r = parseGrant(await runOnConnection(conn, p.script, p.keys, p.args));
      if (!r.granted) return r;
      const acked = Number(await conn.call('WAIT', p.replicas, p.timeoutMs));
      if (acked >= p.replicas) return r;
      await runOnConnection(conn, p.runtime.scripts.release, [p.grantKey], [p.kind, p.owner, p.channel]);
      throw new LockNotReplicatedError(p.name, p.replicas, acked, { address: conn.address });
    });
  } catch (err) {
    throw asSlotwiseError(err);
  }
}

/** Errors of a raw dedicated connection, in slotwise's terms. */
function asSlotwiseError(err: unknown): unknown {
  if (err instanceof SlotwiseError || !(err instanceof Error)) return err;
  if (isReplyError(err)) return new RedisReplyError(err.message, { cause: err });
  // The connection failed with our script possibly applied.
  return new ConnectionError(err.message, { cause: err, maybeSent: true });
}
