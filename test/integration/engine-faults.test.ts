import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { RedisClusterContainer, type ClusterNodeInfo, type StartedRedisCluster } from '../../testcontainers/index.js';
import { trackedRawConnections } from '../helpers/cluster.js';
import { isProcessGone } from '../helpers/processes.js';

/** Faults break the cluster, so this suite owns a private 3×1 cluster. */
describe('engine: faults on a private 3×1 cluster', function () {
  let cluster: StartedRedisCluster;
  const raw = trackedRawConnections();
  const conn = (port: number) => raw(port, cluster);
  const node = async (port: number): Promise<ClusterNodeInfo> => (await cluster.getNodes()).find((n) => n.port === port)!;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
  });
  after(async () => {
    await cluster?.stop();
  });

  let oldMaster: ClusterNodeInfo;
  let replica: ClusterNodeInfo;

  it('killNode(master): its replica becomes master within node timeout + a few seconds', async () => {
    const nodes = await cluster.getNodes();
    oldMaster = nodes.find((n) => n.role === 'master')!;
    replica = nodes.find((n) => n.masterId === oldMaster.id)!;
    // A key acknowledged by the replica (WAIT) must survive the failover.
    const m = conn(oldMaster.port);
    const key = findKeyOn(oldMaster, 'kill-test');
    await m.set(key, 'survives');
    assert.equal(await m.call('WAIT', 1, 5000), 1);

    const report = await cluster.killNode(oldMaster.port);
    const promotionMs = report.promoted!.at - report.killedAt;
    console.log(`      [engine] replica ${report.promoted!.port} promoted ${promotionMs} ms after SIGKILL (node timeout 2000 ms)`);
    assert.equal(report.wasMaster, true);
    assert.equal(report.slotsUncovered, false);
    assert.equal(report.promoted!.port, replica.port);
    assert.ok(promotionMs < 2000 + 8000, `promotion took ${promotionMs} ms`);
    assert.ok(report.convergedAt! >= report.promoted!.at);
    assert.ok(isProcessGone(oldMaster.pid!), 'killed process is gone');

    const killed = await node(oldMaster.port);
    assert.equal(killed.state, 'killed');
    assert.equal(killed.pid, null);
    assert.ok(killed.flags.includes('fail'), `flags ${killed.flags.join(',')}`);
    const promoted = await node(replica.port);
    assert.equal(promoted.role, 'master');
    assert.deepEqual(promoted.slots, oldMaster.slots);
    assert.equal(await conn(replica.port).get(key), 'survives');
    assert.deepEqual(await cluster.healthProblems(), []);
  });

  it('restartNode(old master): same id, back as a replica of its successor', async () => {
    const report = await cluster.restartNode(oldMaster.port);
    assert.equal(report.id, oldMaster.id);
    assert.equal(report.role, 'replica');
    const back = await node(oldMaster.port);
    assert.equal(back.state, 'up');
    assert.equal(back.role, 'replica');
    assert.equal(back.masterId, replica.id);
    assert.notEqual(back.pid, oldMaster.pid);
    assert.deepEqual(await cluster.healthProblems(), []);
  });

  it('failover(default) hands the master role back; force and takeover work too', async () => {
    const back = await cluster.failover(oldMaster.port);
    assert.equal(back.previousMasterPort, replica.port);
    assert.equal((await node(oldMaster.port)).role, 'master');
    assert.equal((await node(replica.port)).role, 'replica');
    console.log(`      [engine] manual failover: promoted after ${back.promotedAt - back.requestedAt} ms, converged after ${back.convergedAt - back.requestedAt} ms`);

    // Another shard: masters refuse a second vote for replicas of the same master within
    // 2 × node timeout, so the engine would have to re-request (it does, but slowly).
    const other = (await cluster.getNodes()).find((n) => n.role === 'replica' && n.masterId !== oldMaster.id)!;
    const forced = await cluster.failover(other.port, { mode: 'force' });
    assert.equal(forced.mode, 'force');
    assert.equal((await node(other.port)).role, 'master');
    const takeover = await cluster.failover(forced.previousMasterPort!, { mode: 'takeover' });
    assert.equal(takeover.previousMasterPort, other.port);
    assert.equal((await node(forced.previousMasterPort!)).role, 'master');
    assert.equal((await node(other.port)).role, 'replica');
    assert.deepEqual(await cluster.healthProblems(), []);
  });

  it('pauseNode returns at once with a frozen node; resumeNode waits until it is back in sync', async () => {
    const victim = (await cluster.getNodes()).find((n) => n.role === 'replica')!;
    const paused = await cluster.pauseNode(victim.port);
    assert.equal((await node(victim.port)).state, 'paused');
    const frozen = conn(victim.port);
    const answer = await Promise.race([
      frozen.ping().then(() => 'answered', () => 'error'),
      new Promise((r) => setTimeout(r, 300, 'no answer')),
    ]);
    assert.equal(answer, 'no answer', 'a SIGSTOPped node does not answer');
    const resumed = await cluster.resumeNode(victim.port);
    assert.ok(resumed.at >= paused.pausedAt);
    assert.equal(resumed.role, 'replica');
    assert.equal((await node(victim.port)).state, 'up');
    assert.equal(await frozen.ping(), 'PONG', 'the queued PING is answered after SIGCONT');
  });

  it('killNode(replica) waits until it is flagged failed; the cluster stays healthy', async () => {
    const victim = (await cluster.getNodes()).find((n) => n.role === 'replica')!;
    const report = await cluster.killNode(victim.port);
    assert.equal(report.wasMaster, false);
    assert.equal(report.promoted, undefined);
    assert.ok((await node(victim.port)).flags.includes('fail'));
    assert.deepEqual(await cluster.healthProblems(), []);
    await cluster.restartNode(victim.port);
    assert.equal((await node(victim.port)).state, 'up');
  });
});

/** A key that hashes into one of `master`'s slots (`base-0`, `base-1`, …). */
function findKeyOn(master: ClusterNodeInfo, base: string): string {
  for (let i = 0; i < 100_000; i++) {
    const key = `${base}-${i}`;
    const slot = calculateSlot(key);
    if (master.slots.some(([a, b]) => a <= slot && slot <= b)) return key;
  }
  throw new Error(`no key found for the slots of ${master.port}`);
}
