import { describe } from '../core/describe.js';
import { InvalidArgumentError } from '../errors.js';
import type { ZooKeeperStore } from '../discovery/zookeeper-store.js';
import type { ConfigSource } from './config-source.js';

/**
 * Live client settings from a znode holding a JSON object, e.g.
 * `{"readFrom": "replica", "commandTimeoutMs": 2000}`. Pass the result as
 * the `config` option; see docs/16-discovery.md#configuration-centre for the
 * options that may change at runtime. A missing or empty znode means "no
 * overrides".
 *
 * ```ts
 * const client = new ClusterClient({ rootNodes, config: watchConfig(zk, '/slotwise/orders/config') });
 * ```
 */
export function watchConfig(store: ZooKeeperStore, path: string): ConfigSource {
  const name = `zookeeper:${store.connect}${path}`;
  return {
    name,
    watch(onDocument, onError) {
      return store.watch(
        path,
        (text) => {
          if (text === undefined || text.trim() === '') {
            onDocument({});
            return;
          }
          let doc: unknown;
          try {
            doc = JSON.parse(text);
          } catch (err) {
            onError(new InvalidArgumentError(`config document ${name}`, `expected a JSON object of options, got ${describe(text)} (${(err as Error).message})`));
            return;
          }
          if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
            onError(new InvalidArgumentError(`config document ${name}`, `expected a JSON object of options, got ${describe(doc)}`));
            return;
          }
          onDocument(doc as Record<string, unknown>);
        },
        onError,
      );
    },
  };
}
