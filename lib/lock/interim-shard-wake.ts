/**
 * INTERIM — to be replaced by `client.ssubscribe()` (lib/pubsub, branch
 * `messaging`) once it is on main: then `lockRuntime()` plugs a WakeSource
 * built on it and this file goes away.
 *
 * A minimal WakeSource over sharded pub/sub: one dedicated connection per
 * master (borrowed from the client's pool while any lock channel on that
 * master is watched), SSUBSCRIBE per watched channel. It does not follow
 * reshards or failovers: a subscription that breaks just stops waking,
 * and waiters fall back to their bounded polling until they are done.
 */
import type { ClusterClient } from '../cluster-client.js';
import type { DedicatedConnection } from '../node/pool.js';
import { slotOf } from '../router/slot.js';
import type { WakeSource } from './waker.js';

export class InterimShardWakeSource implements WakeSource {
  readonly #client: ClusterClient;
  readonly #nodes = new Map<string, NodeSubscriber>();

  constructor(client: ClusterClient) {
    this.#client = client;
  }

  watch(channel: string, onWake: () => void): () => void {
    const status = this.#client.status;
    if (status !== 'ready') return () => undefined;
    const slot = slotOf(channel);
    const address = this.#client.topology?.shardOf(slot)?.master.address;
    if (address === undefined) return () => undefined;
    let node = this.#nodes.get(address);
    if (node === undefined || node.closing) {
      node = new NodeSubscriber(this.#client, slot, () => {
        if (this.#nodes.get(address) === node) this.#nodes.delete(address);
      });
      this.#nodes.set(address, node);
    }
    const n = node;
    n.add(channel, onWake);
    return () => n.remove(channel, onWake);
  }
}

class NodeSubscriber {
  readonly #channels = new Map<string, Set<() => void>>();
  #conn: DedicatedConnection | undefined;
  #finish: (() => void) | undefined;
  closing = false;

  constructor(client: ClusterClient, slot: number, onClosed: () => void) {
    client.withConnection({ slot }, async (conn) => {
      if (this.closing) return;
      this.#conn = conn;
      const r = conn.redis;
      const onMessage = (channel: string) => {
        for (const cb of [...(this.#channels.get(channel) ?? [])]) cb();
      };
      r.on('smessage', onMessage);
      let onClose!: () => void;
      const ended = new Promise<void>((resolve) => {
        this.#finish = resolve;
        onClose = resolve;
        r.once('close', onClose);
      });
      if (this.#channels.size > 0) r.ssubscribe(...this.#channels.keys()).catch(() => undefined);
      await ended;
      // The connection is pooled and reused: leave no listener on it.
      r.off('smessage', onMessage);
      r.off('close', onClose);
      // Leave subscriber mode so the connection can go back to the pool.
      if (r.status === 'ready') await r.sunsubscribe().catch(() => conn.destroy());
    }).catch(() => undefined).finally(() => {
      this.closing = true;
      this.#conn = undefined;
      onClosed();
    });
  }

  add(channel: string, cb: () => void): void {
    let set = this.#channels.get(channel);
    if (set === undefined) {
      this.#channels.set(channel, (set = new Set()));
      // A MOVED (the slot left this node) just leaves the channel unwatched: waiters poll.
      this.#conn?.redis.ssubscribe(channel).catch(() => undefined);
    }
    set.add(cb);
  }

  remove(channel: string, cb: () => void): void {
    const set = this.#channels.get(channel);
    if (!set?.delete(cb) || set.size > 0) return;
    this.#channels.delete(channel);
    if (this.#channels.size === 0) {
      this.closing = true;
      this.#finish?.();
    } else {
      this.#conn?.redis.sunsubscribe(channel).catch(() => undefined);
    }
  }
}
