import { InvalidArgumentError } from './errors.js';
import { describe } from './core/describe.js';
import type { NodeHandle } from './node/node-handle.js';
import type { NodeRoleFilter, Router } from './router/router.js';
import { ScanIterator, type ScanOptions } from './scan/scan-iterator.js';

export type { NodeRoleFilter } from './router/router.js';

const ROLES = new Set<NodeRoleFilter>(['master', 'replica', 'all']);

/**
 * Operations over the whole cluster rather than one slot: per-node fan-out
 * and the cluster-wide SCAN. Kept out of the facade; uses the client core
 * only through its Router.
 */
export class ClusterOps {
  readonly #router: Router;

  constructor(router: Router) {
    this.#router = router;
  }

  /** See ClusterClient.scanIterator. */
  scanIterator(opts?: ScanOptions): ScanIterator {
    return new ScanIterator(this.#router, opts);
  }

  /** See ClusterClient.scriptLoad: SCRIPT LOAD is an all_nodes command. */
  scriptLoad(lua: string): Promise<string> {
    if (typeof lua !== 'string' || lua.trim().length === 0) return Promise.reject(new InvalidArgumentError('lua', `expected non-empty Lua source, got ${describe(lua)}`));
    return this.#router.execute('script', ['load', lua]) as Promise<string>;
  }

  /** See ClusterClient.scriptFlush. */
  scriptFlush(mode?: 'ASYNC' | 'SYNC'): Promise<'OK'> {
    if (mode !== undefined && mode !== 'ASYNC' && mode !== 'SYNC') return Promise.reject(new InvalidArgumentError('mode', `expected 'ASYNC' or 'SYNC', got ${describe(mode)}`));
    return this.#router.execute('script', mode === undefined ? ['flush'] : ['flush', mode]) as Promise<'OK'>;
  }

  /** See ClusterClient.functionLoad: FUNCTION LOAD is an all_shards command. */
  functionLoad(code: string, opts: { replace?: boolean } = {}): Promise<string> {
    if (typeof code !== 'string' || !code.startsWith('#!')) {
      return Promise.reject(new InvalidArgumentError('function code', 'expected a library whose first line is "#!lua name=<library>"'));
    }
    return this.#router.execute('function', opts.replace === true ? ['load', 'replace', code] : ['load', code]) as Promise<string>;
  }

  /** See ClusterClient.forEachNode. */
  async forEachNode<T>(role: NodeRoleFilter, fn: (node: NodeHandle) => T | Promise<T>): Promise<T[]> {
    if (!ROLES.has(role)) throw new InvalidArgumentError('role', `expected 'master', 'replica' or 'all', got ${describe(role)}`);
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', `expected a function (node) => …, got ${describe(fn)}`);
    await this.#router.ready();
    return Promise.all(this.#router.nodes(role).map(async (node) => fn(node)));
  }
}
