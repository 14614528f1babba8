/** `slotwise queue stats|peek|retry-dead|drain NAME`, run as a child process against the shared cluster. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient, WorkQueue } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAUNCHER = join(root, 'bin', 'slotwise.js');

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('slotwise queue CLI', function () {
  this.timeout(90_000);
  let client: ClusterClient;
  let port: string;

  before(async () => {
    const cluster = await sharedCluster();
    port = String(cluster.getRootNodes()[0]!.port);
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
  });

  it('stats, peek, retry-dead and drain a queue with waiting, delayed and dead jobs', async () => {
    const name = `wqc-${randomUUID().slice(0, 8)}`;
    const opts = ['--port', port, '--partitions', '2'];
    // One dead letter first (a worker that fails it, then stops), then jobs that stay put.
    const worker = new WorkQueue<{ n: number }>(client, name, { partitions: 2, maxDeliveries: 1 });
    let failed = 0;
    await worker.process(() => {
      failed++;
      throw new Error('boom');
    });
    await worker.add({ n: 0 }, { jobId: 'bad' });
    await waitFor(async () => failed === 1 && (await worker.stats()).dead === 1, { what: 'the dead letter' });
    await worker.close();
    const q = new WorkQueue<{ n: number }>(client, name, { partitions: 2 });
    await q.addBulk([1, 2, 3].map((n) => ({ payload: { n }, options: { jobId: `w${n}` } })));
    await q.addBulk([4, 5].map((n) => ({ payload: { n }, options: { jobId: `d${n}`, delayMs: 600_000 } })));
    await q.addRepeatable('new-year', { n: 6 }, { cron: '0 0 1 1 *', tz: 'UTC' });

    // Sample: docs/05-queues.md#operating-a-queue-from-the-command-line
    const stats = await run(['queue', 'stats', name, ...opts]);
    assert.equal(stats.code, 0, stats.out);
    assert.match(stats.out, new RegExp(`queue ${name} \\(2 partitions\\): waiting 3, delayed 2, in flight 0, dead 1`));
    assert.equal((stats.out.match(/ {2}partition \d \(slot \d+, master 127\.0\.0\.1:\d+\)/g) ?? []).length, 2, stats.out);
    assert.match(stats.out, /repeatable new-year: cron "0 0 1 1 \*" \(UTC\), next tick \d{4}-01-01T00:00:00\.000Z/);

    const peek = await run(['queue', 'peek', name, ...opts]);
    assert.equal(peek.code, 0, peek.out);
    assert.equal((peek.out.match(/ {2}waiting +p\d w\d attempts 0 data \{"n":\d\}/g) ?? []).length, 3, peek.out);
    assert.equal((peek.out.match(/ {2}delayed +p\d d\d attempts 0 due \S+ data/g) ?? []).length, 2, peek.out);
    assert.match(peek.out, / {2}dead +p\d bad attempts 1 error Error: boom data \{"n":0\}/);

    const retry = await run(['queue', 'retry-dead', name, ...opts]);
    assert.equal(retry.code, 0, retry.out);
    assert.match(retry.out, /1 dead-lettered job moved back/);
    assert.deepEqual(await q.stats().then((s) => [s.waiting, s.delayed, s.dead]), [4, 2, 0]);

    const drain = await run(['queue', 'drain', name, ...opts]);
    assert.equal(drain.code, 0, drain.out);
    assert.match(drain.out, /drained 4 waiting and 2 delayed jobs/);
    assert.deepEqual(await q.stats().then((s) => [s.waiting, s.delayed, s.inFlight, s.dead]), [0, 0, 0, 0]);
    for (const pk of q.partitions) assert.equal(await client.exists(...['w1', 'w2', 'w3', 'd4', 'd5', 'bad'].map((id) => pk.jobPrefix + id)), 0);
    await q.removeRepeatable('new-year');
  });

  it('a queue with priority levels: counts, peek, retry-dead (back to the job\'s own level) and drain cover every level', async () => {
    const name = `wqc-${randomUUID().slice(0, 8)}`;
    const opts = ['--port', port, '--priorities', '3'];
    const worker = new WorkQueue<{ n: number }>(client, name, { priorities: 3, maxDeliveries: 1 });
    let failed = 0;
    await worker.process(() => {
      failed++;
      throw new Error('boom');
    });
    await worker.add({ n: 0 }, { jobId: 'bad', priority: 2 });
    await waitFor(async () => failed === 1 && (await worker.stats()).dead === 1, { what: 'the dead letter' });
    await worker.close();
    const q = new WorkQueue<{ n: number }>(client, name, { priorities: 3 });
    await q.addBulk([0, 1, 2].map((n) => ({ payload: { n }, options: { jobId: `w${n}`, priority: n } })));
    await q.add({ n: 4 }, { jobId: 'd4', delayMs: 600_000, priority: 1 });
    await q.addRepeatable('yearly', { n: 5 }, { cron: '0 0 1 1 *' }, { priority: 1 });
    const pk = q.partitions[0]!;

    const stats = await run(['queue', 'stats', name, ...opts]);
    assert.equal(stats.code, 0, stats.out);
    assert.match(stats.out, new RegExp(`queue ${name} \\(1 partition\\): waiting 3, delayed 1, in flight 0, dead 1`));
    assert.match(stats.out, /repeatable yearly: cron "0 0 1 1 \*" \(UTC\), priority 1, next tick/);
    assert.doesNotMatch(stats.out, /warning/);
    // Without --priorities the higher levels would be missed: said so.
    const unaware = await run(['queue', 'stats', name, '--port', port]);
    assert.equal(unaware.code, 0, unaware.out);
    assert.match(unaware.out, /warning: partition 0 has a ready stream of a priority level ≥ 1: the queue has more levels than --priorities 1/);

    const peek = await run(['queue', 'peek', name, ...opts]);
    assert.equal(peek.code, 0, peek.out);
    const waiting = [...peek.out.matchAll(/ {2}waiting +p0 (w\d) priority (\d) attempts 0/g)].map((m) => `${m[1]}@${m[2]}`);
    assert.deepEqual(waiting, ['w2@2', 'w1@1', 'w0@0'], peek.out);
    assert.match(peek.out, / {2}delayed +p0 d4 priority 1 attempts 0 due/);

    const retry = await run(['queue', 'retry-dead', name, ...opts]);
    assert.equal(retry.code, 0, retry.out);
    assert.match(retry.out, /1 dead-lettered job moved back/);
    assert.equal(await client.xlen(pk.levels[2]!), 2, 'bad is back in level 2 beside w2');

    const drain = await run(['queue', 'drain', name, ...opts]);
    assert.equal(drain.code, 0, drain.out);
    assert.match(drain.out, /drained 4 waiting and 1 delayed jobs/);
    assert.deepEqual(await q.stats().then((s) => [s.waiting, s.delayed, s.inFlight, s.dead]), [0, 0, 0, 0]);
    for (const stream of pk.levels) assert.equal(await client.xlen(stream), 0);
    await q.removeRepeatable('yearly');
    await q.close();
  });

  it('bad input: exit code 1 with what was wrong, and the usage', async () => {
    const noName = await run(['queue', 'stats', '--port', port]);
    assert.equal(noName.code, 1);
    assert.match(noName.out, /queue stats needs exactly one queue NAME/);
    assert.match(noName.out, /slotwise queue stats\|peek\|retry-dead\|drain NAME/);
    const unknown = await run(['queue', 'frob', 'x', '--port', port]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /unknown command "queue frob"/);
    const badPartitions = await run(['queue', 'stats', 'x', '--port', port, '--partitions', '0']); // checked before connecting
    assert.equal(badPartitions.code, 1);
    assert.match(badPartitions.out, /Invalid partitions: expected an integer from 1 to 1024, got 0/);
  });
});
