import type { ClusterClient } from '../cluster-client.js';
import { defineLockScripts, type LockScripts } from './scripts.js';
import { ShardedWakeSource } from './shard-wake.js';
import { Waker } from './waker.js';
import { Watchdog } from './watchdog.js';

/**
 * What all locks of one client share: the scripts bound to it, one
 * watchdog (one timer) and one waker. Created on first use, dropped with the
 * client (WeakMap).
 */
export interface LockRuntime {
  readonly client: ClusterClient;
  readonly scripts: LockScripts;
  readonly watchdog: Watchdog;
  readonly waker: Waker;
}

const runtimes = new WeakMap<ClusterClient, LockRuntime>();

export function lockRuntime(client: ClusterClient): LockRuntime {
  let rt = runtimes.get(client);
  if (rt === undefined) {
    const scripts = defineLockScripts(client);
    rt = { client, scripts, watchdog: new Watchdog(scripts.extend), waker: new Waker(new ShardedWakeSource(client)) };
    runtimes.set(client, rt);
  }
  return rt;
}
