/**
 * Producer for the worker example: adds `COUNT` thumbnail jobs (default 20),
 * one of which fails once and is retried, and one poison job that ends in
 * the dead letters.
 *
 *   npx tsx examples/worker/enqueue.ts      (SLOTWISE_ROOT_NODES=127.0.0.1:7000 COUNT=20)
 */
import { ClusterClient } from 'slotwise';
import { enqueueDemoJobs, rootNodes, thumbnailQueue } from './queue.js';

const client = new ClusterClient({ rootNodes: rootNodes() });
const ids = await enqueueDemoJobs(thumbnailQueue(client), Number(process.env.COUNT ?? 20));
console.log(`added ${ids.length} jobs`);
await client.quit();
