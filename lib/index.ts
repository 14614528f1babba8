/**
 * `slotwise`: the Redis Cluster client ({@link ClusterClient}), cluster-native
 * locks, work queues, pub/sub and sessions, and the errors they throw.
 * @module slotwise
 */
export * from './errors.js';
export { ClusterClient, type ClientStatus } from './cluster-client.js';
export { channels, type ClusterClientEvents, type CommandDiagnostics, type MigrationClearedInfo, type MigrationStuckInfo, type RedirectInfo, type RefreshDiagnostics } from './client-events.js';
export {
  DEFAULTS,
  type AddressMap,
  type CircuitBreakerOptions,
  type ClusterClientOptions,
  type Credentials,
  type DnsLookup,
  type TlsSource,
  type HostPort,
  type NodeAddress,
  type PoolOptions,
  type ReadCandidate,
  type ReadFrom,
  type ResolvedOptions,
  type TelemetryOptions,
} from './options.js';
export { tracingChannels, type BatchTraceContext, type CommandTraceContext, type RefreshTraceContext } from './telemetry/channels.js';
export type { ClientStats, NodeStatsEntry } from './telemetry/stats.js';
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
export type { RepeatableInfo } from './queue/repeat.js';
export { QueueEvents, type QueueEventBase, type QueueEventsMap, type QueueEventsOptions } from './queue/events.js';
export type { RepeatOptions, RepeatSchedule } from './queue/repeat-spec.js';
export { QUEUE_DEFAULTS, type AddOptions, type ProcessOptions, type WorkQueueOptions } from './queue/options.js';
export * from './session/index.js';
// Types that public fields and parameters refer to (named in the API reference).
export type { ConnectionStatus } from './node/node-handle.js';
export type { DedicatedPool } from './node/pool.js';
export type { NodeHealth } from './topology/parse.js';
export type { ExecOptions } from './router/request.js';
export type { ResolvedQueueOptions } from './queue/options.js';
export type { PartitionKeys } from './queue/keys.js';
export * from './discovery/index.js';
export * from './ratelimit/index.js';
export type { JobProgress } from './queue/job.js';
export type { QueueLimiterOptions, RetentionOptions, ResolvedRetention } from './queue/options.js';
export type { CleanOptions, CleanState } from './queue/retention.js';
export type { CacheStats } from './cache/store.js';
export type { ClientSideCacheOptions, ResolvedCacheOptions } from './cache/options.js';
