/**
 * Keys of the whole cluster matching a pattern, through the client's
 * cluster-wide `scanIterator` (every master).
 *
 * TEMPORARY STAND-IN: until `client.scanIterator` lands on main (branch
 * `multikey`), this walks SCAN on each master handle itself. It is the
 * smallest thing that works on a stable topology and is removed as soon as
 * the real iterator is available — do not grow it.
 */
import type { ClusterClient } from '../index.js';

export interface ScanOptions {
  readonly match: string;
  readonly type?: string;
  readonly count?: number;
}

type ScanIterating = { scanIterator?: (opts: ScanOptions) => AsyncIterable<string | string[]> };

/** Every matching key; a key may repeat (SCAN's guarantee), callers dedupe. */
export async function* scanKeys(client: ClusterClient, opts: ScanOptions): AsyncGenerator<string> {
  const native = (client as unknown as ScanIterating).scanIterator;
  if (typeof native === 'function') {
    for await (const item of native.call(client, opts)) {
      if (Array.isArray(item)) yield* item;
      else yield item;
    }
    return;
  }
  for (const node of client.nodes('master')) {
    let cursor = '0';
    do {
      const args: (string | number)[] = [cursor, 'MATCH', opts.match, 'COUNT', opts.count ?? 1000];
      if (opts.type) args.push('TYPE', opts.type);
      const [next, keys] = (await node.call('scan', ...args)) as [string, string[]];
      cursor = String(next);
      yield* keys;
    } while (cursor !== '0');
  }
}
