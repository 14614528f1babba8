import type { HostPort } from '../core/addresses.js';
import type { ClusterClientOptions, ResolvedOptions } from '../options.js';
import { applyConfigDocument } from './live-options.js';

/** What the client does with what its sources push. */
export interface SourceSinks {
  /** The discovery provider published new seeds. */
  seeds(nodes: readonly HostPort[]): void;
  /** A configuration document was applied; the options whose value changed. */
  applied(changed: readonly string[]): void;
  /** A document was rejected (the last good state stays) or a source failed. */
  error(err: Error): void;
}

/**
 * Starts the discovery watch and the configuration watch of a client, if it
 * has them. Returns one function that stops both.
 */
export function watchSources(input: ClusterClientOptions, live: ResolvedOptions, sinks: SourceSinks): () => void {
  const stops: (() => void)[] = [];
  const discovery = live.discovery;
  if (discovery?.watch) stops.push(discovery.watch((nodes) => sinks.seeds(nodes), (err) => sinks.error(err)));
  const config = live.config;
  if (config) {
    stops.push(
      config.watch(
        (doc) => {
          let changed: string[];
          try {
            changed = applyConfigDocument(input, live, doc, config.name);
          } catch (err) {
            sinks.error(err as Error);
            return;
          }
          if (changed.length > 0) sinks.applied(changed);
        },
        (err) => sinks.error(err),
      ),
    );
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}
