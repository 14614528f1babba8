/** WorkQueue job progress (readable from any process) and per-process pause/resume, on the shared cluster. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, JobLostError, type ClusterClient, type Job } from '../../../lib/index.js';
import { sharedQueues } from '../../helpers/queues.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue: progress, pause/resume', function () {
  this.timeout(60_000);
  const suite = sharedQueues();
  const open = <T>(name: string, c?: ClusterClient) => suite.open<T>(name, c);

  it('job.updateProgress(): stored with the job, read by progressOf() from another client, emitted here; refused once the job is done', async () => {
    const name = `wqp-${randomUUID().slice(0, 8)}`;
    const q = open<{ n: number }>(name);
    const observer = open<{ n: number }>(name, suite.other);
    const events: unknown[] = [];
    q.on('progress', (_job, p) => events.push(p));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished: Job<{ n: number }> | undefined;
    const badInput: string[] = [];
    await q.process(async (job) => {
      for (const bad of [Number.NaN, 'half' as never, [1] as never, { big: 'x'.repeat(20_000) }]) {
        await job.updateProgress(bad).catch((e: unknown) => e instanceof InvalidArgumentError && badInput.push(e.message));
      }
      await job.updateProgress(50);
      await job.updateProgress({ stage: 'upload', pct: 80 });
      await gate;
      finished = job;
      return 'ok';
    });
    const { jobId } = await q.add({ n: 1 }, { jobId: `job-${randomUUID().slice(0, 6)}` });
    const seen = await waitFor(async () => {
      const p = await observer.progressOf(jobId);
      return p !== undefined && typeof p === 'object' ? p : undefined;
    }, { what: 'progress visible from another client' });
    assert.deepEqual(seen, { stage: 'upload', pct: 80 });
    assert.equal(badInput.length, 4, 'every bad value refused with InvalidArgumentError');
    assert.deepEqual(events, [50, { stage: 'upload', pct: 80 }], 'no event for refused values; one per stored report');
    release();
    await waitFor(() => finished, { what: 'the job finished' });
    await waitFor(async () => (await q.stats()).inFlight === 0, { what: 'acknowledged' });
    assert.deepEqual(finished!.progress, { stage: 'upload', pct: 80 });
    await assert.rejects(finished!.updateProgress(100), JobLostError);
    await assert.rejects(observer.progressOf(''), InvalidArgumentError);
  });

  it('pause() before process(): this worker starts nothing while another takes every job; resume() starts it', async () => {
    const name = `wqpause-${randomUUID().slice(0, 8)}`;
    const a = open<{ i: number }>(name);
    const b = open<{ i: number }>(name, suite.other);
    const ranOn: Record<string, number[]> = { a: [], b: [] };
    a.pause();
    assert.equal(a.paused, true);
    await a.process((job) => void ranOn.a!.push(job.data.i));
    await b.process((job) => void ranOn.b!.push(job.data.i));
    for (let i = 0; i < 10; i++) await a.add({ i });
    await waitFor(() => ranOn.b!.length === 10, { what: 'the unpaused worker ran all 10' });
    assert.deepEqual(ranOn.a, [], 'the paused worker started nothing');
    await b.close({ timeoutMs: 1000 });
    a.resume();
    assert.equal(a.paused, false);
    for (let i = 10; i < 15; i++) await a.add({ i });
    await waitFor(() => ranOn.a!.length === 5, { what: 'the resumed worker ran the next 5' });
  });

  it('pause() while a read is in flight: what it brings in is not started until resume()', async () => {
    const q = open<{ i: number }>(`wqhold-${randomUUID().slice(0, 8)}`);
    const ran: number[] = [];
    await q.process((job) => void ran.push(job.data.i));
    q.pause();
    await q.add({ i: 1 });
    await waitFor(async () => (await q.stats()).inFlight === 1, { what: 'the in-flight read took the job' });
    assert.deepEqual(ran, [], 'delivered while paused, not started');
    q.resume();
    await waitFor(() => ran.length === 1, { what: 'started after resume' });
    await waitFor(async () => (await q.stats()).inFlight === 0, { what: 'acknowledged' });
  });
});
