import { promises as dns } from 'node:dns';
import type { HostPort } from '../core/addresses.js';
import { DiscoveryError, InvalidArgumentError } from '../errors.js';
import type { DiscoveryProvider } from './provider.js';
import { describe } from '../core/describe.js';

/** One SRV answer, as `dns.promises.resolveSrv` gives it. */
export interface SrvTarget {
  /** Target host name. */
  name: string;
  /** Target port. */
  port: number;
  /** Lower is preferred. */
  priority?: number;
  /** Relative weight among targets of the same priority. */
  weight?: number;
}

/** Options of {@link dnsSrvDiscovery}. */
export interface DnsSrvDiscoveryOptions {
  /**
   * The SRV name, e.g. `_redis._tcp.redis-cluster.prod.svc.cluster.local`
   * (a Kubernetes headless service publishes one per named port).
   */
  name: string;
  /** Resolves SRV records; a test or a custom resolver injects one here. @default dns.promises.resolveSrv */
  resolveSrv?: (name: string) => Promise<readonly SrvTarget[]>;
  /** How often `watch()` re-resolves the name; 0 turns watching off. @default 30000 */
  refreshIntervalMs?: number;
}

/**
 * Discovery from a DNS SRV record: every target is a seed node (targets are
 * hostnames, resolved on each connect like any node name — see `dnsLookup`).
 * DNS has no push, so `watch()` polls every `refreshIntervalMs`; the client
 * also re-resolves whenever every node it knows is unreachable.
 */
export function dnsSrvDiscovery(options: DnsSrvDiscoveryOptions): DiscoveryProvider {
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw new InvalidArgumentError('dnsSrvDiscovery name', `expected an SRV name like "_redis._tcp.redis.default.svc.cluster.local", got ${JSON.stringify(options?.name)}`);
  }
  const every = options.refreshIntervalMs ?? 30_000;
  if (!Number.isInteger(every) || every < 0) {
    throw new InvalidArgumentError('dnsSrvDiscovery refreshIntervalMs', `expected an integer ≥ 0, got ${describe(every)}`);
  }
  const resolveSrv = options.resolveSrv ?? ((n: string) => dns.resolveSrv(n));
  const name = `dns-srv:${options.name}`;
  const resolve = async (): Promise<readonly HostPort[]> => {
    let records;
    try {
      records = await resolveSrv(options.name);
    } catch (err) {
      throw new DiscoveryError(`${name}: SRV lookup failed: ${(err as Error).message}`, { cause: err });
    }
    if (records.length === 0) throw new DiscoveryError(`${name}: no SRV records`);
    // Lowest priority first; a client tries seeds in this order.
    return [...records]
      .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0) || (b.weight ?? 0) - (a.weight ?? 0))
      .map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port }));
  };
  return {
    name,
    resolve,
    watch(onChange, onError) {
      if (every === 0) return () => {};
      let last = '';
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const tick = () => {
        resolve().then(
          (nodes) => {
            const key = nodes.map((n) => `${n.host}:${n.port}`).sort().join(',');
            if (!stopped && key !== last) {
              last = key;
              onChange(nodes);
            }
          },
          (err: Error) => {
            if (!stopped) onError(err);
          },
        ).finally(() => {
          if (stopped) return;
          timer = setTimeout(tick, every);
          timer.unref();
        });
      };
      tick();
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}
