/** How a subscription is made: classic channels, patterns, or sharded (slot-owned) channels. */
export type SubscriptionKind = 'subscribe' | 'psubscribe' | 'ssubscribe';

/** One message received on a subscription. */
export interface PubSubMessage {
  /** The channel it was published to. */
  readonly channel: string;
  /** The message text. */
  readonly message: string;
  /** The pattern that matched, for `psubscribe` subscriptions. */
  readonly pattern?: string;
}

/**
 * Called for every message. A thrown error or rejected promise is reported
 * on `client.subscriber`'s `error` event (when someone listens) and never
 * affects the subscription.
 */
export type MessageHandler = (message: string, channel: string, pattern?: string) => void | Promise<void>;

/**
 * A window during which a subscription was NOT live on the server: messages
 * published to `channel` between `from` and `to` may have been missed.
 * Pub/sub is at-most-once; this event is how slotwise is honest about it.
 */
export interface GapEvent {
  /** What kind of subscription the gap was in. */
  readonly kind: SubscriptionKind | 'keyspace';
  /** The channel (or pattern) that was not subscribed. */
  readonly channel: string;
  /** `Date.now()` when the loss was detected (the real loss can be slightly earlier). */
  readonly from: number;
  /** `Date.now()` when the subscription was live again. */
  readonly to: number;
  /** Why it was lost: `migrated` (the server unsubscribed us: slot moved or failover), `connection` (the connection died), `moved` (topology changed under a live subscription). */
  readonly reason: 'migrated' | 'connection' | 'moved';
  /** `host:port` of the node the subscription lives on now. */
  readonly address: string;
}

/** Events of `client.subscriber`. */
export interface PubSubEvents {
  /** A subscription was not live for a while (see GapEvent). */
  gap: [gap: GapEvent];
  /** A message handler threw, or a background resubscription failed. Emitted only while someone listens. */
  error: [error: Error];
}
