/**
 * What users feel from a mutex shared by processes: no lost update under
 * contention, stale holders fenced off, leases that survive long work and
 * stop being renewed once released.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ClusterClient, Mutex, type LockHandle } from '../../../lib/index.js';
import { rawConnection, sharedCluster } from '../../helpers/cluster.js';
import { spawnFixture } from '../../helpers/children.js';
import { waitFor } from '../../helpers/wait.js';
import type { StartedRedisCluster } from '../../../testcontainers/index.js';

const FIXTURE = new URL('../../fixtures/lock-child.ts', import.meta.url).pathname;

describe('lock: Mutex across processes', function () {
  this.timeout(240_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  const prefix = `t-mproc-${randomUUID().slice(0, 8)}`;

  before(async () => {
    cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
  });

  it('50 holders in 2 processes × 200 non-atomic increments = exactly 10,000; no two grants overlap (server time)', async () => {
    const name = `${prefix}:counter`;
    const key = `${prefix}:count`;
    const job = { mode: 'counter', rootNodes: cluster.getRootNodes(), name, key, holders: 25, increments: 200 };
    const children = [spawnFixture(FIXTURE, job), spawnFixture(FIXTURE, job)];
    const t0 = Date.now();
    const results = await Promise.all(children.map((c) => c.next('done')));
    const ms = Date.now() - t0;
    await Promise.all(children.map((c) => c.exited));
    assert.equal(await client.get(key), '10000');
    const intervals = results.flatMap((r) => r.intervals as [number, number, number][]).sort((a, b) => a[0] - b[0]);
    assert.equal(intervals.length, 10_000);
    let overlaps = 0;
    for (let i = 1; i < intervals.length; i++) if (intervals[i]![0] < intervals[i - 1]![1]) overlaps++;
    assert.equal(overlaps, 0, 'grants overlapping in server time');
    const tokens = intervals.map((x) => x[2]);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, 'tokens increase in grant order');
    console.log(`      10,000 increments by 50 holders in 2 processes in ${ms} ms (${Math.round(10_000 / (ms / 1000))} grants/s)`);
  });

  it('a holder frozen past its lease: the next holder writes, the stale fenced write is refused, its signal fired once', async () => {
    const name = `${prefix}:freeze`;
    const key = `${prefix}:fenced-resource`;
    const marker = join(tmpdir(), `slotwise-${randomUUID()}`);
    const child = spawnFixture(FIXTURE, { mode: 'freeze', rootNodes: cluster.getRootNodes(), name, key, marker });
    try {
      const first = await child.next('acquired');
      // The child's lease is 1 s and it cannot renew: we get the lock once it runs out.
      const h = await new Mutex(client, name, { leaseMs: 10_000 }).acquire({ waitMs: 30_000 });
      assert.ok(h.token > Number(first.token));
      await h.fencedSet(key, `fresh ${h.token}`);
      writeFileSync(marker, 'thaw');
      const done = await child.next('done');
      assert.equal(done.rejected, 'ERR_SLOTWISE_FENCING_REJECTED');
      assert.equal(done.aborts, 1, 'AbortSignal fired exactly once');
      assert.equal((await child.next('using-rejected')).code, 'ERR_SLOTWISE_LOCK_LOST');
      assert.equal(await client.get(key), `fresh ${h.token}`);
      assert.equal(await h.release(), true, "the stale holder's release did not touch our grant");
    } finally {
      rmSync(marker, { force: true });
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });

  it('a 1 s lease guards a 5 s task under using() without loss; no renewal is sent after release', async () => {
    const name = `${prefix}:watchdog`;
    const mutex = new Mutex(client, name, { leaseMs: 1000 });
    const master = client.topology!.shardOf(mutex.keys.slot)!.master;
    const mon = rawConnection(master.port, cluster);
    await mon.connect();
    const monitor = await mon.monitor();
    const renewals: number[] = [];
    // Another lock served by the same master, so the same MONITOR sees its renewals.
    let marker = `${prefix}:marker`;
    for (let i = 0; client.topology!.shardOf(new Mutex(client, marker).keys.slot)!.master.address !== master.address; i++) marker = `${prefix}:marker${i}`;
    let markerRenewals = 0;
    // A renewal: EVALSHA <sha> 1 <key> h <owner> <leaseMs> (a release ends with the channel instead).
    const isRenewal = (args: string[], key: string) =>
      args[0]?.toLowerCase().startsWith('eval') && args.length === 7 && args[2] === '1' && args[3] === key && args[4] === 'h' && args[6] === '1000';
    monitor.on('monitor', (time: string, args: string[]) => {
      const [sec, usec] = time.split('.');
      if (isRenewal(args, mutex.keys.base)) renewals.push(Number(sec) * 1e6 + Number(usec));
      if (isRenewal(args, `slotwise:mutex:{${marker}}`)) markerRenewals++;
    });
    try {
      let aborted = false;
      const started = Date.now();
      let handle: LockHandle | undefined;
      await mutex.using(async (signal, h) => {
        handle = h;
        signal.addEventListener('abort', () => (aborted = true));
        // The task: 5 s of work in small awaited steps.
        while (Date.now() - started < 5000) await delay(50);
      });
      const releasedAt = Date.now();
      assert.equal(aborted, false, 'lease never lost');
      const during = renewals.length;
      assert.ok(during >= 8, `renewed ${during} times during 5 s with a 1 s lease`);
      // Watch the same client's watchdog keep working for another lock until it has
      // renewed 3 times (≥ 3 × 333 ms): none of those ticks may renew the released one.
      const other = await new Mutex(client, marker, { leaseMs: 1000, autoExtend: true }).acquire();
      await waitFor(() => markerRenewals >= 3, { timeoutMs: 20_000, what: 'three renewals of another lock' });
      await other.release();
      assert.equal(renewals.filter((t) => t > handle!.releasedAtUs!).length, 0, 'renewals after release (server time)');
      console.log(`      ${during} renewals in ${releasedAt - started} ms, 0 after release (watched through ${markerRenewals} renewals of another lock)`);
    } finally {
      mon.disconnect();
    }
  });
});
