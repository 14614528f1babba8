/**
 * The queue both sides agree on: producers (enqueue.ts) and workers
 * (worker.ts) must use the same name and partition count.
 */
import { ClusterClient, WorkQueue } from 'slotwise';

// No top-level await in this module: tests import it (mocha loads them with require()).

/** What a job carries. */
export interface ThumbnailJob {
  /** The image to render a thumbnail of. */
  image: string;
  /** Demo knob: fail this many deliveries before succeeding (a flaky upstream). */
  failFirst?: number;
  /** Demo knob: fail every delivery (a poison job: ends in the dead letters). */
  poison?: boolean;
}

/** Cluster address from the environment: `SLOTWISE_ROOT_NODES=host:port,host:port`. */
export function rootNodes(): string[] {
  return (process.env.SLOTWISE_ROOT_NODES ?? '127.0.0.1:7000').split(',');
}

export function thumbnailQueue(client: ClusterClient, name = process.env.QUEUE_NAME ?? 'thumbnails'): WorkQueue<ThumbnailJob> {
  return new WorkQueue<ThumbnailJob>(client, name, {
    partitions: 4, // spread over the masters; order is kept per partition
    maxDeliveries: 3, // then the job moves to the dead letters
    backoffBaseMs: 100, // retries wait 100 ms, 200 ms, … (jittered), up to backoffMaxMs
    backoffMaxMs: 1000,
    visibilityTimeoutMs: 10_000, // a worker that dies mid-job hands it over after this
  });
}

/** Adds the demo jobs; their ids are `img-0` … and `poison`. Returns every id. */
export async function enqueueDemoJobs(queue: WorkQueue<ThumbnailJob>, count: number): Promise<string[]> {
  const jobs: { payload: ThumbnailJob; options: { jobId: string } }[] = Array.from({ length: count }, (_, i) => ({
    payload: { image: `photo-${i}.jpg`, ...(i === 1 ? { failFirst: 1 } : {}) },
    options: { jobId: `img-${i}` }, // idempotency key: adding the same id again adds nothing
  }));
  jobs.push({ payload: { image: 'broken.jpg', poison: true }, options: { jobId: 'poison' } });
  const results = await queue.addBulk(jobs);
  return results.map((r) => r.jobId);
}
