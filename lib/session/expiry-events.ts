/**
 * `expired` events of a session store, from keyspace notifications.
 *
 * Redis emits a notification on the node that expires the key, and only
 * there: it never crosses the cluster bus. `client.keyspaceEvents` therefore
 * subscribes on every master (and follows failovers and new masters). The
 * pattern subscription (`__keyspace@0__:<prefix>{*}`) makes the server send
 * only this store's session keys. The server must have notifications on:
 * `notify-keyspace-events` containing `K` and `x` (e.g. `Kx`, or `KEA`).
 *
 * Caveats (documented in docs/08-sessions.md): Redis sends `expired` when it
 * actually reaps the key (on access, or by its active expiry cycle), which
 * can be later than the TTL; pub/sub is at-most-once, and windows in which a
 * master was not subscribed are reported as `gap` events.
 */
import type { ClusterClient } from '../cluster-client.js';
import { InvalidArgumentError } from '../errors.js';
import type { KeyspaceEvent } from '../pubsub/keyspace.js';
import type { Subscription } from '../pubsub/subscription.js';
import type { SessionKeys } from './keys.js';
import { describeValue } from './validate.js';

/** Options of `store.watchExpiry()`. */
export interface WatchExpiryOptions {
  /**
   * `'verify'`: check `notify-keyspace-events` on every master (CONFIG GET)
   * and fail with KeyspaceNotificationsDisabledError, naming the node and the
   * missing flags, when one lacks them. `'enable'`: add the missing flags with
   * CONFIG SET on every node (not persisted: put them in redis.conf too).
   * @default 'verify'
   */
  config?: 'verify' | 'enable';
}

export function subscribeExpiry(
  client: ClusterClient,
  keys: SessionKeys,
  opts: WatchExpiryOptions,
  onExpired: (id: string) => void,
): Promise<Subscription> {
  if (opts === null || typeof opts !== 'object') throw new InvalidArgumentError('watchExpiry options', `expected an object, got ${describeValue(opts)}`);
  for (const key of Object.keys(opts)) {
    if (key !== 'config') throw new InvalidArgumentError(`watchExpiry option "${key}"`, 'unknown option; known: config');
  }
  const config = opts.config ?? 'verify';
  if (config !== 'verify' && config !== 'enable') throw new InvalidArgumentError('config', `expected 'verify' or 'enable', got ${describeValue(config)}`);
  return client.keyspaceEvents({ events: ['expired'], channel: 'keyspace', keyPattern: keys.sessionPattern, config }, (e: KeyspaceEvent) => {
    const id = keys.idOf(e.key);
    if (id !== undefined) onExpired(id);
  });
}
