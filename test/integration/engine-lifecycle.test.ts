import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { InvalidArgumentError } from '../../lib/errors.js';
import {
  liveEngineProcesses,
  liveEngineTempDirs,
  parseClusterNodes,
  parseInfo,
  RedisClusterContainer,
  type StartedRedisCluster,
} from '../../testcontainers/index.js';
import { slotMapSignature, slotOwners } from '../../testcontainers/cluster-state.js';
import { rawConnection, sharedCluster } from '../helpers/cluster.js';
import { commandLine, isProcessGone } from '../helpers/processes.js';

describe('engine: a 3×1 cluster from start to stop', function () {
  let cluster: StartedRedisCluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it('starts with all 16384 slots covered and every node agreeing, then stop() leaves nothing behind', async () => {
    const before = new Set(liveEngineTempDirs());
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    console.log(`      [engine] 3×1 cluster healthy after ${cluster.startupMs} ms`);

    const nodes = await cluster.getNodes();
    assert.equal(nodes.length, 6);
    const masters = nodes.filter((n) => n.role === 'master');
    const replicas = nodes.filter((n) => n.role === 'replica');
    assert.equal(masters.length, 3);
    assert.equal(masters.reduce((sum, m) => sum + m.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0), 16384);
    assert.deepEqual(new Set(replicas.map((r) => r.masterId)), new Set(masters.map((m) => m.id)), 'one replica per master');
    for (const n of nodes) {
      assert.equal(n.state, 'up');
      assert.ok(n.pid !== null && commandLine(n.pid).includes('redis-server'), `pid ${n.pid} is a redis-server`);
    }

    // Independent of the engine's own health check: ask every node directly.
    const signatures = new Set<string>();
    for (const n of nodes) {
      const conn = rawConnection(n.port, cluster);
      try {
        const info = parseInfo(String(await conn.call('CLUSTER', 'INFO')));
        assert.equal(info.cluster_state, 'ok', `node ${n.port}`);
        assert.equal(info.cluster_slots_assigned, '16384');
        assert.equal(info.cluster_known_nodes, '6');
        signatures.add(slotMapSignature(slotOwners(parseClusterNodes(String(await conn.call('CLUSTER', 'NODES'))))));
      } finally {
        conn.disconnect();
      }
    }
    assert.equal(signatures.size, 1, 'every node reports the same slot map');
    assert.deepEqual(await cluster.healthProblems(), []);

    const pids = nodes.map((n) => n.pid as number);
    const dirs = liveEngineTempDirs().filter((d) => !before.has(d));
    assert.equal(dirs.length, 6, 'one temp dir per node');
    await cluster.stop();
    await cluster.stop(); // idempotent
    for (const pid of pids) assert.ok(isProcessGone(pid), `redis-server pid ${pid} still runs after stop()`);
    for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} still exists after stop()`);
    const stillTracked = liveEngineProcesses().filter((p) => pids.includes(p.pid));
    assert.deepEqual(stillTracked, []);
  });
});

describe('engine: the shared cluster', () => {
  it('offers root nodes and connection URLs of its masters', async () => {
    const cluster = await sharedCluster();
    const roots = cluster.getRootNodes();
    const masters = (await cluster.getNodes()).filter((n) => n.role === 'master');
    assert.deepEqual(roots.map((r) => r.port).sort(), masters.map((m) => m.port).sort());
    assert.deepEqual(cluster.getConnectionUrls(), roots.map((r) => `redis://127.0.0.1:${r.port}`));
    const conn = rawConnection(roots[0]!.port);
    try {
      assert.equal(await conn.ping(), 'PONG');
    } finally {
      conn.disconnect();
    }
  });

  it('rejects faults on an unknown port, listing the known ports', async () => {
    const cluster = await sharedCluster();
    const unknown = 1;
    await assert.rejects(cluster.killNode(unknown), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.argument, 'port');
      assert.match(err.message, /killNode\(1\): no node of this cluster listens on port 1; known ports: /);
      for (const p of cluster.getPorts()) assert.match(err.message, new RegExp(`\\b${p}\\b`));
      return true;
    });
    await assert.rejects(cluster.pauseNode(unknown), InvalidArgumentError);
    await assert.rejects(cluster.restartNode(unknown), InvalidArgumentError);
    await assert.rejects(cluster.failover(unknown), InvalidArgumentError);
  });

  it('rejects reshard arguments that cannot be honoured', async () => {
    const cluster = await sharedCluster();
    const nodes = await cluster.getNodes();
    const [m1, m2] = nodes.filter((n) => n.role === 'master');
    const replica = nodes.find((n) => n.role === 'replica')!;
    await assert.rejects(cluster.reshard({ from: m1!.port, to: m1!.port, slots: 1 }), /Invalid to: reshard: from and to are both/);
    await assert.rejects(cluster.reshard({ from: m1!.port, to: replica.port, slots: 1 }), /Invalid to: reshard: node \d+ is not a master/);
    await assert.rejects(cluster.reshard({ from: m1!.port, to: m2!.port, slots: 20_000 }), /Invalid slots: reshard: 20000 slots requested, but node \d+ owns \d+/);
    await assert.rejects(cluster.failover(m1!.port), /Invalid replicaPort: failover\(\d+\): node is a master/);
    assert.deepEqual(await cluster.healthProblems(), []);
  });
});
