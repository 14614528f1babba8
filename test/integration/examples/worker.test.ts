/**
 * examples/worker: the worker service runs as its own process on the shared
 * cluster; SIGTERM in the middle of the work stops it cleanly (exit 0), and a
 * second worker finishes the rest: every job ran, the flaky one was retried,
 * the poison one is in the dead letters, nothing was lost.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient } from '../../../lib/index.js';
import { enqueueDemoJobs, thumbnailQueue } from '../../../examples/worker/queue.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { rootNodesEnv, startExample, type ExampleProcess } from '../../helpers/examples.js';
import { waitFor } from '../../helpers/wait.js';

const JOBS = 80;

describe('examples/worker (integration)', function () {
  this.timeout(120_000);
  let client: ClusterClient;
  const workers: ExampleProcess[] = [];
  const name = `ex-thumbs-${randomUUID().slice(0, 8)}`;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await client?.quit();
  });

  async function startWorker(): Promise<ExampleProcess> {
    const env = { SLOTWISE_ROOT_NODES: rootNodesEnv(await sharedCluster()), QUEUE_NAME: name, WORK_MS: '50', CONCURRENCY: '4' };
    const w = startExample('examples/worker/worker.ts', env);
    workers.push(w);
    await waitFor(() => w.lines.some((l) => l.event === 'ready') || w.proc.exitCode !== null, { what: 'worker ready', timeoutMs: 30_000 });
    assert.ok(w.lines.some((l) => l.event === 'ready'), `worker did not start:\n${w.stderr()}`);
    return w;
  }

  const events = (w: ExampleProcess, event: string) => w.lines.filter((l) => l.event === event);

  it('stops gracefully on SIGTERM mid-work; a second worker finishes; no job is lost', async () => {
    const queue = thumbnailQueue(client, name);
    const ids = await enqueueDemoJobs(queue, JOBS);
    const good = ids.filter((id) => id !== 'poison');

    const first = await startWorker();
    await waitFor(() => events(first, 'completed').length >= 10, { what: '10 jobs done by the first worker', timeoutMs: 30_000 });
    first.proc.kill('SIGTERM');
    assert.equal(await first.exited, 0, `exit code after SIGTERM; stderr:\n${first.stderr()}`);
    assert.deepEqual(first.lines.filter((l) => l.event === 'stopping' || l.event === 'stopped').map((l) => l.event), ['stopping', 'stopped']);
    const doneByFirst = events(first, 'completed').length;
    assert.ok(doneByFirst < good.length, `SIGTERM came mid-work (${doneByFirst} of ${good.length} done)`);

    const second = await startWorker();
    await waitFor(async () => {
      const s = await queue.stats();
      return s.waiting + s.delayed + s.inFlight === 0 && s.dead === 1;
    }, { what: 'queue drained, poison job dead-lettered', timeoutMs: 60_000 });
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderr());

    // Every good job has its result; nothing else was written.
    const results = await client.hkeys(`${name}:thumbnails`);
    assert.deepEqual(results.sort(), [...good].sort());
    const completed = new Set([...events(first, 'completed'), ...events(second, 'completed')].map((l) => l.id));
    assert.deepEqual([...completed].sort(), [...good].sort(), 'every good job reported completed by one of the workers');
    // The flaky job failed once, was retried and completed; the poison one is in the dead letters.
    const failures = [...events(first, 'failed'), ...events(second, 'failed')];
    assert.ok(failures.some((l) => l.id === 'img-1' && typeof l.retryInMs === 'number'), 'img-1 failed once with a retry scheduled');
    const dead = await queue.deadLetters();
    assert.deepEqual(dead.map((d) => [d.jobId, d.attempts, d.error]), [['poison', 3, 'Error: cannot decode broken.jpg']]);
  });
});
