import { InvalidArgumentError } from './errors.js';
import { describe } from './options.js';
import type { NodeHandle } from './node/node-handle.js';
import type { ExecOptions, RouteOptions } from './router/request.js';
import { ScanIterator, type ScanHost, type ScanOptions } from './scan/scan-iterator.js';
import type { TopologySnapshot } from './topology/snapshot.js';

/** Which nodes `client.nodes()` returns. */
export type NodeRoleFilter = 'master' | 'replica' | 'all';

/** What cluster-wide operations need from the client. */
export interface ClusterOpsHost {
  /** Connects when needed. */
  ready(): Promise<void>;
  current(): TopologySnapshot | undefined;
  refresh(reason: string): Promise<unknown>;
  nextChange(): Promise<void>;
  handle(address: string, host: string, port: number, role: 'master' | 'replica'): NodeHandle;
  nodes(role: NodeRoleFilter): NodeHandle[];
  execute(name: string, args: readonly unknown[], opts: ExecOptions, route: RouteOptions): Promise<unknown>;
  /** The client's dispatch (fans out all-shard/all-node commands). */
  send(name: string, args: readonly unknown[]): Promise<unknown>;
}

/** Resolves after `ms`, or earlier when `change` (a topology change) resolves. */
export function pauseUntilChange(change: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void change.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const ROLES = new Set<NodeRoleFilter>(['master', 'replica', 'all']);

/**
 * Operations over the whole cluster rather than one slot: per-node fan-out
 * and the cluster-wide SCAN. Kept out of the facade; uses the router only
 * through its host.
 */
export class ClusterOps {
  readonly #host: ClusterOpsHost;
  readonly #scanHost: ScanHost;

  constructor(host: ClusterOpsHost) {
    this.#host = host;
    this.#scanHost = {
      snapshot: async (fresh) => {
        await host.ready();
        if (fresh) await host.refresh('scan').catch(() => undefined);
        return host.current();
      },
      node: (address, h, port) => host.handle(address, h, port, 'master'),
      sendTo: (node, name, args, buffer) => host.execute(name, args, buffer ? { buffer } : {}, { node }),
      pause: (ms) => pauseUntilChange(host.nextChange(), ms),
    };
  }

  /** See ClusterClient.scanIterator. */
  scanIterator(opts?: ScanOptions): ScanIterator {
    return new ScanIterator(this.#scanHost, opts);
  }

  /** See ClusterClient.scriptLoad: SCRIPT LOAD is an all_nodes command. */
  scriptLoad(lua: string): Promise<string> {
    if (typeof lua !== 'string' || lua.trim().length === 0) return Promise.reject(new InvalidArgumentError('lua', `expected non-empty Lua source, got ${describe(lua)}`));
    return this.#host.send('script', ['load', lua]) as Promise<string>;
  }

  /** See ClusterClient.scriptFlush. */
  scriptFlush(mode?: 'ASYNC' | 'SYNC'): Promise<'OK'> {
    if (mode !== undefined && mode !== 'ASYNC' && mode !== 'SYNC') return Promise.reject(new InvalidArgumentError('mode', `expected 'ASYNC' or 'SYNC', got ${describe(mode)}`));
    return this.#host.send('script', mode === undefined ? ['flush'] : ['flush', mode]) as Promise<'OK'>;
  }

  /** See ClusterClient.functionLoad: FUNCTION LOAD is an all_shards command. */
  functionLoad(code: string, opts: { replace?: boolean } = {}): Promise<string> {
    if (typeof code !== 'string' || !code.startsWith('#!')) {
      return Promise.reject(new InvalidArgumentError('function code', 'expected a library whose first line is "#!lua name=<library>"'));
    }
    return this.#host.send('function', opts.replace === true ? ['load', 'replace', code] : ['load', code]) as Promise<string>;
  }

  /** See ClusterClient.forEachNode. */
  async forEachNode<T>(role: NodeRoleFilter, fn: (node: NodeHandle) => T | Promise<T>): Promise<T[]> {
    if (!ROLES.has(role)) throw new InvalidArgumentError('role', `expected 'master', 'replica' or 'all', got ${describe(role)}`);
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', `expected a function (node) => …, got ${describe(fn)}`);
    await this.#host.ready();
    return Promise.all(this.#host.nodes(role).map(async (node) => fn(node)));
  }
}
