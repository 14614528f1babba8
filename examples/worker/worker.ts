/**
 * A worker service: processes the partitioned `thumbnails` queue with
 * retries and dead letters, and shuts down gracefully on SIGTERM (what
 * Kubernetes, systemd and `docker stop` send): it stops taking jobs, lets
 * running ones finish (or hands them back to other workers after 10 s), then
 * closes its connections and exits 0. No job is lost either way.
 *
 *   npx tsx examples/worker/worker.ts      (SLOTWISE_ROOT_NODES=127.0.0.1:7000 CONCURRENCY=4)
 *
 * Logs one JSON object per line.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ClusterClient } from 'slotwise';
import { rootNodes, thumbnailQueue } from './queue.js';

const log = (event: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ event, ...fields }));

const client = new ClusterClient({ rootNodes: rootNodes() });
await client.connect();
const queue = thumbnailQueue(client);
const workMs = Number(process.env.WORK_MS ?? 20);

queue.on('completed', (job) => log('completed', { id: job.id, attempt: job.attempt }));
queue.on('failed', (job, err, retry) => log('failed', { id: job.id, error: err.message, retryInMs: retry?.delayMs }));
queue.on('dead', (job, err) => log('dead', { id: job.id, error: err.message }));
queue.on('error', (err) => log('background-error', { error: err.message })); // retried by the queue itself

await queue.process(async (job) => {
  if (job.data.poison) throw new Error(`cannot decode ${job.data.image}`);
  if (job.attempt <= (job.data.failFirst ?? 0)) throw new Error('image service unavailable');
  // The real work. job.signal aborts if this delivery is no longer ours (shutdown timeout, takeover).
  await delay(workMs, undefined, { signal: job.signal });
  // Record the result idempotently: a job may run more than once (at-least-once delivery).
  await client.hset(`${queue.name}:thumbnails`, job.id, `thumb-of-${job.data.image}`);
  return 'ok';
}, { concurrency: Number(process.env.CONCURRENCY ?? 4) });
log('ready', { pid: process.pid, partitions: queue.partitions.length });

process.once('SIGTERM', () => {
  log('stopping');
  void (async () => {
    await queue.close({ timeoutMs: 10_000 }); // no new reads; running jobs finish or are handed back
    await client.quit();
    log('stopped');
    // Nothing is left running: the process exits by itself.
  })();
});
