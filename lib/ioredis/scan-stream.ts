import { Readable } from 'node:stream';

/** ioredis' scan stream options. */
export interface ScanStreamOptions {
  /** MATCH pattern (not prefixed by keyPrefix, as in ioredis). @default undefined (every key) */
  match?: string;
  /** COUNT hint per SCAN step; the cluster-wide scanStream also emits arrays of at most this many keys. @default 10 */
  count?: number;
  /** TYPE filter (SCAN only). @default undefined (any type) */
  type?: string;
  /** HSCAN NOVALUES (Redis ≥ 7.4). @default false */
  noValues?: boolean;
}

/**
 * An object-mode Readable emitting arrays, as ioredis' ScanStream does; it
 * pulls the next batch only when read, so `pause()`/`resume()` pace the scan.
 * `next` resolves the next batch, or undefined when the scan is complete.
 */
export function batchStream(next: () => Promise<unknown[] | undefined>): Readable {
  return new Readable({
    objectMode: true,
    read() {
      next().then(
        (batch) => this.push(batch === undefined ? null : batch),
        (err: Error) => this.destroy(err),
      );
    },
  });
}

/** SCAN-family arguments after the cursor (`MATCH`, `COUNT`, `TYPE`, `NOVALUES`). */
export function scanTail(opts: ScanStreamOptions = {}, withType = false): unknown[] {
  const tail: unknown[] = [];
  if (opts.match !== undefined) tail.push('MATCH', opts.match);
  if (withType && opts.type !== undefined) tail.push('TYPE', opts.type);
  if (opts.count !== undefined) tail.push('COUNT', opts.count);
  if (opts.noValues) tail.push('NOVALUES');
  return tail;
}

/**
 * A cursor loop as a stream: `step(cursor)` runs one SCAN/HSCAN/SSCAN/ZSCAN
 * and resolves its `[cursor, items]` reply; the stream ends after cursor "0".
 */
export function cursorStream(step: (cursor: string) => Promise<unknown>): Readable {
  let cursor = '0';
  let done = false;
  return batchStream(async () => {
    if (done) return undefined;
    const [nextCursor, items] = (await step(cursor)) as [string | Buffer, unknown[]];
    cursor = String(nextCursor);
    if (cursor === '0') done = true;
    return items;
  });
}

/** Batches the keys of an async iterator (the cluster-wide scan) into arrays of at most `size`. */
export function iteratorStream(iterator: AsyncIterator<unknown>, size: number): Readable {
  return batchStream(async () => {
    const batch: unknown[] = [];
    while (batch.length < size) {
      const r = await iterator.next();
      if (r.done) return batch.length > 0 ? batch : undefined;
      batch.push(r.value);
    }
    return batch;
  });
}
