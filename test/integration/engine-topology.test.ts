import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { liveEngineProcesses, RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { rawConnection } from '../helpers/cluster.js';
import { isProcessGone } from '../helpers/processes.js';

const KEYS = Array.from({ length: 2000 }, (_, i) => `topology-key-${i}`);

/** Adding and removing nodes changes the topology, so this suite owns a private cluster. */
describe('engine: adding and removing nodes', function () {
  let cluster: StartedRedisCluster;
  const conns = new Map<number, Redis>();
  const conn = (port: number): Redis => {
    let c = conns.get(port);
    if (c === undefined) {
      c = rawConnection(port, cluster);
      conns.set(port, c);
    }
    return c;
  };

  /** Port of the master owning each slot, per the cluster's current map. */
  async function ownerBySlot(): Promise<Map<number, number>> {
    const owners = new Map<number, number>();
    for (const n of await cluster.getNodes()) {
      if (n.role !== 'master') continue;
      for (const [a, b] of n.slots) for (let s = a; s <= b; s++) owners.set(s, n.port);
    }
    return owners;
  }

  /** Reads every key from the master that owns its slot now; a lost key or a redirect fails. */
  async function assertAllKeysOnOwners(): Promise<void> {
    const owners = await ownerBySlot();
    assert.equal(owners.size, 16384, 'all slots covered');
    for (const key of KEYS) {
      const port = owners.get(calculateSlot(key))!;
      assert.equal(await conn(port).get(key), `v:${key}`, `${key} on its owner ${port}`);
    }
  }

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    const owners = await ownerBySlot();
    await Promise.all(KEYS.map((key) => conn(owners.get(calculateSlot(key))!).set(key, `v:${key}`)));
  });
  after(async () => {
    for (const c of conns.values()) c.disconnect();
    await cluster?.stop();
  });

  let added: { port: number; id: string };

  it('addMaster() joins an empty master every node knows; reshard gives it slots and keys', async () => {
    added = await cluster.addMaster();
    let nodes = await cluster.getNodes();
    assert.equal(nodes.length, 7);
    const fresh = nodes.find((n) => n.port === added.port)!;
    assert.equal(fresh.role, 'master');
    assert.deepEqual(fresh.slots, []);

    const from = nodes.find((n) => n.role === 'master' && n.slots.length > 0)!;
    const report = await cluster.reshard({ from: from.port, to: added.port, slots: 1500 });
    assert.equal(report.slots.length, 1500);
    assert.ok(report.keys > 0, 'keys moved with their slots');
    nodes = await cluster.getNodes();
    assert.equal(nodes.find((n) => n.port === added.port)!.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 1500);
    await assertAllKeysOnOwners();
  });

  it('addReplica() follows the new master and is in sync before it returns', async () => {
    const replica = await cluster.addReplica(added.port);
    assert.equal(replica.masterPort, added.port);
    const info = String(await conn(replica.port).info('replication'));
    assert.match(info, /master_link_status:up/);
    assert.equal((await cluster.getNodes()).find((n) => n.port === replica.port)!.masterId, added.id);
  });

  it('removeNode() empties the master, re-points its replica, forgets it and ends it; no key is lost', async () => {
    const before = await cluster.getNodes();
    const removed = before.find((n) => n.port === added.port)!;
    const itsReplica = before.find((n) => n.masterId === added.id)!;
    const dir = liveEngineProcesses().find((p) => p.pid === removed.pid)!.dir;

    const report = await cluster.removeNode(added.port);
    assert.equal(report.movedSlots, 1500);
    assert.deepEqual(report.repointedReplicas, [itsReplica.port]);

    const after = await cluster.getNodes();
    assert.equal(after.length, 7);
    assert.equal(after.some((n) => n.port === added.port || n.id === added.id), false);
    const repointed = after.find((n) => n.port === itsReplica.port)!;
    assert.equal(repointed.role, 'replica');
    assert.ok(after.some((n) => n.id === repointed.masterId && n.role === 'master'));
    for (const n of after.filter((x) => x.state === 'up')) {
      const known = String(await conn(n.port).call('CLUSTER', 'NODES'));
      assert.equal(known.includes(added.id), false, `node ${n.port} forgot the removed node`);
    }
    assert.ok(isProcessGone(removed.pid!), 'removed node process ended');
    assert.equal(existsSync(dir), false, 'removed node dir deleted');
    await assert.rejects(cluster.killNode(added.port), /no node of this cluster listens on port/);
    assert.deepEqual(await cluster.healthProblems(), []);
    await assertAllKeysOnOwners();
  });

  it('killNode() of a master without replica reports uncovered slots; restartNode() heals it', async () => {
    const lonely = await cluster.addMaster();
    const donor = (await cluster.getNodes()).find((n) => n.role === 'master' && n.slots.length > 0)!;
    // Slots without test keys: a master without persistence restarts empty, as in real life.
    const used = new Set(KEYS.map((k) => calculateSlot(k)));
    const empty: number[] = [];
    for (const [a, b] of donor.slots) for (let s = a; s <= b && empty.length < 10; s++) if (!used.has(s)) empty.push(s);
    await cluster.reshard({ from: donor.port, to: lonely.port, slots: empty });
    const kill = await cluster.killNode(lonely.port);
    assert.equal(kill.slotsUncovered, true);
    assert.equal(kill.promoted, undefined);
    assert.ok((await cluster.healthProblems()).some((p) => /not live|uncovered|cluster_state:fail/.test(p)));
    const back = await cluster.restartNode(lonely.port);
    assert.equal(back.role, 'master');
    assert.deepEqual(await cluster.healthProblems(), []);
    await cluster.removeNode(lonely.port);
    await assertAllKeysOnOwners();
  });
});
