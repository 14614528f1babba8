/**
 * `slotwise/testcontainers`: start a real Redis Cluster from local
 * `redis-server` processes and inject faults into it.
 * @module slotwise/testcontainers
 */
export { RedisClusterContainer, CLUSTER_DEFAULTS, type ClusterRuntime, type ClusterTlsOptions, type ContainerNetworkMode } from './container.js';
export { generateTlsMaterial, writeTlsMaterial, DEFAULT_TLS_HOSTS, type TlsClientOptions, type TlsMaterial, type TlsFiles, type TlsMaterialOptions } from './tls.js';
export { StartedRedisCluster, type EngineClientOptions } from './started-cluster.js';
export { findRedisServer, INSTALL_HINT, MIN_REDIS_MAJOR, type RedisServerBinary } from './redis-binary.js';
export { detectContainerRuntime, type ContainerRuntimeStatus } from './docker.js';
export { liveEngineProcesses, liveEngineTempDirs, liveEngineContainers, killAllEngineProcesses, type LiveEngineProcess } from './process-registry.js';
export { parseClusterNodes, parseInfo, SLOT_COUNT, type ClusterNodesEntry } from './cluster-state.js';
export { DEFAULT_REDIS_IMAGE } from './docker-node.js';
export { LOCAL_REDIS_IMAGE, buildLocalRedisImage, ensureImage } from './docker-image.js';
export { fixOpenSlots, openSlots, readMasters, type NodeAccess, type OpenSlot, type SlotFix, type MasterState } from './slot-repair.js';
/** The errors the engine throws (the same classes as in `slotwise`). */
export { ClusterEngineError, InvalidArgumentError, RedisServerNotFoundError } from '../lib/errors.js';
/** Node descriptions and the reports of fault and topology helpers. */
export type * from './types.js';
export { ZooKeeperServer, findZooKeeper, type ZooKeeperServerOptions, type ZooKeeperInstallation } from './zookeeper-server.js';
