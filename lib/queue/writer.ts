import type { ClusterClient } from '../cluster-client.js';
import { NotReplicatedError } from '../errors.js';
import { runOnConnection } from '../scripts/on-connection.js';
import type { PartitionKeys } from './keys.js';
import type { QueueScripts } from './scripts.js';

/**
 * Runs the queue's scripts on a partition's master — shared by the queue
 * (add) and its deliveries (touch, ack, fail), so that neither calls back
 * into the other.
 */
export class PartitionWriter {
  readonly #client: ClusterClient;
  readonly #scripts: QueueScripts;
  readonly #queue: string;
  readonly #replicas: number;
  readonly #replicaTimeoutMs: number;

  constructor(client: ClusterClient, scripts: QueueScripts, queue: string, replicas: number, replicaTimeoutMs: number) {
    this.#client = client;
    this.#scripts = scripts;
    this.#queue = queue;
    this.#replicas = replicas;
    this.#replicaTimeoutMs = replicaTimeoutMs;
  }

  /**
   * Runs script `name`; with `replicas`, add and ack run on a dedicated
   * connection followed by WAIT on that same connection.
   */
  async write(pk: PartitionKeys, name: keyof QueueScripts, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const script = this.#scripts[name];
    const n = this.#replicas;
    // Durability covers what must not be lost: an acknowledged add, and the ack (a lost ack means a re-run).
    if (n === 0 || (name !== 'add' && name !== 'ack')) return script.run(keys, args);
    return this.#client.withConnection(pk.ready, async (conn) => {
      const reply = await runOnConnection(conn, script, keys, args);
      const acked = Number(await conn.send('wait', [n, this.#replicaTimeoutMs]));
      if (acked < n) {
        throw new NotReplicatedError(`Queue "${this.#queue}" ${name} reached ${acked} of ${n} replicas within ${this.#replicaTimeoutMs} ms`, n, acked, { address: conn.address });
      }
      return reply;
    });
  }
}
