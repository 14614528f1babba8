/**
 * Repeatable jobs under crashes, with real worker PROCESSES (forked, tsx):
 * an `every: 1000 ms` repeatable scheduled by 3 worker processes (each adds it
 * at start-up and runs a scheduler), `replicas: 1`. Mid-run one worker is
 * SIGKILLed and the master of the repeatable's partition is killed -9 (a
 * replica is promoted, node timeout 2 s). Over 30 consecutive ticks every tick
 * runs exactly once: 0 missed, 0 doubled. Workers report each run over IPC
 * before acknowledging it (see the fixture), so a run is counted even when
 * the process dies right after. A QueueEvents listener in this process (its
 * own client) sees each tick's `completed` event once, across the failover.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient, QueueEvents, WorkQueue } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { waitFor } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(root, 'test', 'fixtures', 'repeat-worker.ts');
const EVERY = 1000;
const TICKS = 30;

describe('chaos: repeatable job across 3 worker processes, one SIGKILLed, a master failed over', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  const children = new Set<ChildProcess>();
  const stderr: string[] = [];
  /** Runs per tick (ms), over all processes. */
  const runs = new Map<number, number>();
  let onRun: ((tick: number) => void) | undefined;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 10_000 });
    await client.connect();
  });
  after(async () => {
    const exits = [...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(exits);
    await client?.quit();
    await cluster?.stop();
  });

  function start(slot: number, config: Record<string, unknown>): Promise<ChildProcess> {
    const child = fork(FIXTURE, [JSON.stringify(config)], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    child.stderr?.on('data', (d: Buffer) => stderr.push(`[worker ${slot}] ${d.toString().slice(0, 500)}`));
    child.on('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      child.on('message', (m: { t: string; id?: string }) => {
        if (m.t === 'ready') resolve(child);
        else if (m.t === 'ran') {
          const tick = Number(m.id!.split(':').pop());
          runs.set(tick, (runs.get(tick) ?? 0) + 1);
          onRun?.(tick);
        }
      });
      child.once('exit', (code) => reject(new Error(`worker ${slot} exited with ${code} before it was ready:\n${stderr.join('')}`)));
    });
  }

  it(`every: ${EVERY} ms over ${TICKS} ticks: each tick runs once (0 missed, 0 doubled)`, async () => {
    const name = 'chaos-repeat';
    const config = { rootNodes: cluster.getRootNodes(), queue: name, partitions: 3, everyMs: EVERY };
    const events = new QueueEvents(client, name, { partitions: 3 });
    const completed = new Map<number, number>();
    events.on('completed', (e) => {
      const tick = Number(e.jobId.split(':').pop());
      completed.set(tick, (completed.get(tick) ?? 0) + 1);
    });
    await events.start();
    const workers = await Promise.all([0, 1, 2].map((s) => start(s, config)));
    const observer = new WorkQueue(client, name, { partitions: 3 });
    const [info] = await observer.repeatables();
    assert.ok(info, 'the repeatable exists');
    const victim = client.topology!.shardOf(observer.partitions[info.partition]!.slot)!.master.port;

    const first = await waitFor(() => (runs.size > 0 ? Math.min(...runs.keys()) : undefined), { timeoutMs: 15_000, what: 'the first tick' });
    const last = first + (TICKS - 1) * EVERY;
    const faults: string[] = [];
    let failover: Promise<unknown> = Promise.resolve();
    const timers: NodeJS.Timeout[] = [];
    // Faults land between ticks (0.4 s after one ran): a crash in the middle of a handler
    // is a duplicate run by design (at-least-once), which this test does not measure.
    onRun = (tick) => {
      if (tick === first + 6 * EVERY) {
        timers.push(setTimeout(() => {
          workers[1]!.kill('SIGKILL');
          faults.push(`worker 1 (pid ${workers[1]!.pid}) SIGKILLed after tick 7`);
        }, 400));
      }
      if (tick === first + 12 * EVERY) {
        timers.push(setTimeout(() => {
          failover = cluster.killNode(victim).then(async (report) => {
            assert.ok(report.promoted, 'a replica was promoted');
            faults.push(`master ${victim} killed -9 after tick 13, replica ${report.promoted.port} promoted in ${report.promoted.at - report.killedAt} ms`);
            await cluster.restartNode(victim);
          });
        }, 400));
      }
    };
    // Two ticks past the window, so a late duplicate of a window tick would have shown up.
    await waitFor(() => runs.has(last + 2 * EVERY), { timeoutMs: 90_000, intervalMs: 100, what: `tick ${TICKS + 2} (ran ${runs.size})` });
    await failover;
    timers.forEach(clearTimeout);
    await waitFor(async () => (await observer.stats()).inFlight === 0, { timeoutMs: 20_000, what: 'no delivery in flight' });
    await waitFor(() => completed.has(last + 2 * EVERY), { timeoutMs: 20_000, what: 'the completed event of the last tick' });
    await events.close();

    const window = Array.from({ length: TICKS }, (_, i) => first + i * EVERY);
    const missed = window.filter((t) => !runs.has(t)).length;
    const doubled = window.filter((t) => (runs.get(t) ?? 0) > 1).length;
    const ran = window.filter((t) => runs.get(t) === 1).length;
    console.log(`      ${faults.join('; ')}`);
    const eventsOnce = window.filter((t) => completed.get(t) === 1).length;
    console.log(`      ${TICKS} ticks: ${ran} ran once, ${missed} missed, ${doubled} doubled (3 worker processes, replicas: 1); ` +
      `completed events seen by a listener in this process: ${eventsOnce} ticks once, ${window.filter((t) => !completed.has(t)).length} missing`);
    assert.equal(faults.length, 2, `both faults happened: ${faults.join('; ')}`);
    assert.equal(missed, 0);
    assert.equal(doubled, 0);
    assert.equal(ran, TICKS);
    assert.equal(eventsOnce, TICKS, 'one completed event per tick');
  });
});
