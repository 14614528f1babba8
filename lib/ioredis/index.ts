/**
 * `slotwise/ioredis`: ioredis' Cluster API on slotwise's router, so that
 * `import { Cluster } from 'ioredis'` → `import { Cluster } from 'slotwise/ioredis'`
 * is the whole migration. See docs/14-ioredis-compat.md.
 * @module slotwise/ioredis
 */
import { InvalidArgumentError } from '../errors.js';
import { Cluster } from './cluster.js';
import { ReplyError } from './errors.js';

export { Cluster, type ClusterStatus } from './cluster.js';
export { ReplyError } from './errors.js';
export { ClusterNodeClient } from './node.js';
export { IoredisBatch, type BatchResult } from './batch.js';
export type { ClusterNode, IoredisClusterOptions as ClusterOptions, IoredisNatMap as NatMap, IoredisNatTarget as NatMapTarget, IoredisRedisOptions as RedisOptions } from './options.js';
export type { ScanStreamOptions } from './scan-stream.js';
export type { CommandDefinition } from '../scripts/define-command.js';

/**
 * The default export, shaped like ioredis' `Redis` namespace for
 * `new Redis.Cluster(…)` and `err instanceof Redis.ReplyError`. A
 * standalone `new Redis()` is not offered (slotwise is a cluster client).
 */
class Redis {
  /** The {@link Cluster} class (`new Redis.Cluster(startupNodes, options)`). */
  static readonly Cluster = Cluster;
  /** The {@link ReplyError} class (`err instanceof Redis.ReplyError`). */
  static readonly ReplyError = ReplyError;
  constructor() {
    throw new InvalidArgumentError('new Redis()', 'slotwise/ioredis provides the Cluster client only: use new Redis.Cluster(startupNodes, options); for a standalone server use ioredis itself');
  }
}

export default Redis;
