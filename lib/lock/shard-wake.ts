import type { ClusterClient } from '../cluster-client.js';
import type { Subscription } from '../pubsub/subscription.js';
import type { WakeSource } from './waker.js';

/**
 * Release announcements from other processes, through the client's sharded
 * pub/sub (`client.ssubscribe`): the subscription follows the lock's slot
 * through reshards and failovers. A channel is subscribed while someone in
 * this process waits on it. Announcements are best effort — a message
 * published before the subscription is confirmed, or during a gap, is
 * missed — which is why every wait is also bounded (polling).
 */
export class ShardedWakeSource implements WakeSource {
  readonly #client: ClusterClient;

  constructor(client: ClusterClient) {
    this.#client = client;
  }

  watch(channel: string, onWake: () => void): () => void {
    if (this.#client.status !== 'ready') return () => undefined;
    let stopped = false;
    let sub: Subscription | undefined;
    let pending: Promise<Subscription>;
    try {
      pending = this.#client.ssubscribe(channel, () => onWake());
    } catch {
      return () => undefined;
    }
    pending.then(
      (s) => {
        if (stopped) void s.unsubscribe().catch(() => undefined);
        else sub = s;
      },
      () => undefined, // not watched: waiters poll
    );
    return () => {
      stopped = true;
      if (sub) void sub.unsubscribe().catch(() => undefined);
    };
  }
}
