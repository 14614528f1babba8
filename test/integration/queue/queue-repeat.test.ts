/** Repeatable jobs (every / cron) on the shared cluster: once per tick across workers, re-add is a no-op, remove cancels, missed-tick policy, bad input. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type ClusterClient } from '../../../lib/index.js';
import { sharedQueues } from '../../helpers/queues.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue: repeatable jobs', function () {
  this.timeout(60_000);
  const suite = sharedQueues();
  const open = <T>(name: string, c?: ClusterClient) => suite.open<T>(name, c);

  it('every: 300 ms with two workers scheduling: each tick runs once, on consecutive ticks; remove cancels the ticks enqueued ahead', async () => {
    const name = `wqr-${randomUUID().slice(0, 8)}`;
    const a = open<{ report: string }>(name);
    const b = open<{ report: string }>(name, suite.other);
    const runs = new Map<number, number>();
    const handler = (job: { id: string; data: { report: string } }) => {
      assert.equal(job.data.report, 'daily');
      const tick = Number(job.id.split(':').pop());
      runs.set(tick, (runs.get(tick) ?? 0) + 1);
    };
    await Promise.all([a.process(handler), b.process(handler)]);
    // Sample: docs/05-queues.md#repeatable-jobs
    const info = await a.addRepeatable('report', { report: 'daily' }, { every: 300 });
    assert.equal(info.every, 300);
    assert.equal(info.nextTickAt! % 300, 0);
    // Every process may add it at start-up: the same definition changes nothing.
    const again = await b.addRepeatable('report', { report: 'daily' }, { every: 300 });
    assert.ok(again.nextTickAt! >= info.nextTickAt!);
    await waitFor(() => runs.size >= 8, { timeoutMs: 20_000, what: `8 ticks (ran ${runs.size})` });
    assert.equal(await a.removeRepeatable('report'), true);
    assert.equal(await a.removeRepeatable('report'), false);
    assert.deepEqual(await b.repeatables(), []);
    const stats = await a.stats();
    assert.equal(stats.delayed, 0, 'ticks enqueued ahead were cancelled');
    await waitFor(async () => (await a.stats()).waiting + (await a.stats()).inFlight === 0, { what: 'due ticks to finish' });
    const ticks = [...runs.keys()].sort((x, y) => x - y);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    assert.deepEqual([...runs.values()].filter((n) => n !== 1), [], 'no tick ran twice');
    assert.deepEqual(gaps.filter((g) => g !== 300), [], 'no tick missed');
  });

  it('cron (6 fields, seconds) with a time zone; repeatables() lists it', async () => {
    const q = open<null>(`wqr-${randomUUID().slice(0, 8)}`);
    const ran: string[] = [];
    await q.process((job) => void ran.push(job.id));
    const info = await q.addRepeatable('tick', null, { cron: '* * * * * *', tz: 'Europe/Paris' });
    assert.equal(info.cron, '* * * * * *');
    assert.equal(info.tz, 'Europe/Paris');
    await waitFor(() => ran.length >= 2, { timeoutMs: 10_000, what: 'two cron ticks' });
    assert.match(ran[0]!, /^repeat:tick:\d+000$/);
    assert.deepEqual((await q.repeatables()).map((r) => r.key), ['tick']);
    await q.removeRepeatable('tick');
  });

  for (const missed of ['each', 'once'] as const) {
    it(`missed: '${missed}': ticks missed while no process scheduled are ${missed === 'each' ? 'each enqueued' : 'skipped but the latest'}`, async () => {
      const q = open<null>(`wqr-${randomUUID().slice(0, 8)}`);
      await q.addRepeatable('m', null, { every: 1000 }, { missed });
      // Pretend every scheduler was down for 10 s: move the schedule back.
      const part = q.partitions[(await q.repeatables())[0]!.partition]!;
      const back = Math.floor(Date.now() / 1000) * 1000 - 10_000;
      await suite.client.zadd(part.repeat, back, 'm');
      await q.addRepeatable('m', null, { every: 1000 }, { missed }); // unchanged definition; schedules now
      const waiting = (await q.stats()).waiting;
      if (missed === 'each') assert.ok(waiting >= 10 && waiting <= 11, `each missed tick enqueued (${waiting})`);
      else assert.equal(waiting, 1);
      await q.removeRepeatable('m');
    });
  }

  it('bad input: InvalidArgumentError naming the argument, nothing written', async () => {
    const q = open<unknown>(`wqr-${randomUUID().slice(0, 8)}`);
    const bad: [string, () => Promise<unknown>][] = [
      ['every', () => q.addRepeatable('k', 1, { every: 50 })],
      ['every', () => q.addRepeatable('k', 1, { every: 1.5 })],
      ['cron', () => q.addRepeatable('k', 1, { cron: 'every tuesday' })],
      ['tz', () => q.addRepeatable('k', 1, { cron: '* * * * *', tz: 'Mars/Olympus' })],
      ['schedule', () => q.addRepeatable('k', 1, { every: 1000, cron: '* * * * *' } as never)],
      ['schedule', () => q.addRepeatable('k', 1, undefined as never)],
      ['key', () => q.addRepeatable('', 1, { every: 1000 })],
      ['missed', () => q.addRepeatable('k', 1, { every: 1000 }, { missed: 'all' as never })],
      ['payload', () => q.addRepeatable('k', () => 1, { every: 1000 })],
    ];
    for (const [argument, call] of bad) {
      await assert.rejects(call, (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, argument);
    }
    assert.deepEqual(await q.repeatables(), []);
    for (const pk of q.partitions) assert.equal(await suite.client.exists(pk.repeat, pk.repeatDefs, pk.delayed), 0);
  });
});
