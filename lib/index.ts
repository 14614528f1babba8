export * from './errors.js';
export { ClusterClient, type ClientStatus } from './cluster-client.js';
export { channels, type ClusterClientEvents, type CommandDiagnostics, type MigrationClearedInfo, type MigrationStuckInfo, type RedirectInfo, type RefreshDiagnostics } from './client-events.js';
export {
  DEFAULTS,
  type AddressMap,
  type CircuitBreakerOptions,
  type ClusterClientOptions,
  type DnsLookup,
  type HostPort,
  type NodeAddress,
  type PoolOptions,
  type ReadCandidate,
  type ReadFrom,
  type ResolvedOptions,
} from './options.js';
export type { NodeHandle, NodeStats, NodeRole } from './node/node-handle.js';
export type { BreakerState } from './node/breaker.js';
export type { TopologySnapshot, Shard, NodeDescriptor } from './topology/snapshot.js';
export { slotOf, SLOT_COUNT } from './core/slots.js';
export { Script, type ScriptDefinition, type ScriptRunOptions } from './scripts/script.js';
export type { CommandDefinition } from './scripts/define-command.js';
export type { DedicatedConnection, PoolStats } from './node/pool.js';
export { ScanIterator, type ScanOptions, type ScanStats } from './scan/scan-iterator.js';
export type { NodeRoleFilter } from './router/router.js';
export type { Pipeline } from './pipeline/pipeline.js';
export type { ExecResult } from './pipeline/command-queue.js';
export type { Transaction } from './transaction/transaction.js';
export type { WatchContext, WatchOptions } from './transaction/watch.js';
export type { PubSub } from './pubsub/pubsub.js';
export { Subscription, MessageIterator, type IteratorOptions, type SubscriptionEvents } from './pubsub/subscription.js';
export type { GapEvent, MessageHandler, PubSubEvents, PubSubMessage, SubscriptionKind } from './pubsub/types.js';
export type { KeyspaceEvent, KeyspaceEventsOptions } from './pubsub/keyspace.js';
export { Topic, type TopicOptions } from './topic/topic.js';
export { jsonSerializer, type Serializer } from './codec.js';
export * from './lock/index.js';
export { WorkQueue, type AddResult, type DeadLetter, type JobHandler, type QueueStats, type WorkQueueEvents } from './queue/queue.js';
export { Job } from './queue/job.js';
export { QUEUE_DEFAULTS, type AddOptions, type ProcessOptions, type WorkQueueOptions } from './queue/options.js';
export * from './session/index.js';
export type { CacheStats } from './cache/store.js';
export type { ClientSideCacheOptions } from './cache/options.js';
