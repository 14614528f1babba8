/**
 * The engine publishes a cluster's nodes to a real ZooKeeper
 * (`withZooKeeper(connect, path)`) and keeps the znode current through kill,
 * restart, add and remove; the test ZooKeeper server itself leaves no process
 * or dir behind. Skipped (saying why) where ZooKeeper is not installed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { InvalidArgumentError, parseNodesDocument, ZooKeeperStore } from '../../lib/index.js';
import { liveEngineProcesses, RedisClusterContainer, ZooKeeperServer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { spawnFixture } from '../helpers/children.js';
import { isProcessGone } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { requireZooKeeper } from '../helpers/zookeeper.js';

const PATH = '/slotwise/engine-test/nodes';

describe('engine: ZooKeeper (withZooKeeper, ZooKeeperServer)', function () {
  this.timeout(120_000);
  let zk: ZooKeeperServer | undefined;
  let store: ZooKeeperStore | undefined;
  let cluster: StartedRedisCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    await store?.close();
    store = undefined;
    await zk?.stop();
    zk = undefined;
  });

  const published = async () => new Set(parseNodesDocument((await store!.read(PATH)) ?? 'null').map((n) => n.port));

  it('rejects a bad connect string or path before starting anything', () => {
    assert.throws(() => new RedisClusterContainer().withZooKeeper('', PATH), InvalidArgumentError);
    assert.throws(() => new RedisClusterContainer().withZooKeeper('127.0.0.1:2181', 'relative/path'), /absolute znode path/);
  });

  it('publishes every running node and keeps the znode current through kill, restart, add and remove', async function () {
    requireZooKeeper(this);
    zk = await ZooKeeperServer.start();
    store = new ZooKeeperStore(zk.connectString);
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withZooKeeper(zk.connectString, PATH).start();
    assert.deepEqual(await published(), new Set(cluster.getPorts()));

    const master = cluster.getRootNodes()[0]!.port;
    const kill = await cluster.killNode(master);
    assert.ok(kill.promoted, 'a replica took over');
    assert.ok(!(await published()).has(master), 'a killed node is no longer published');
    assert.ok((await published()).has(kill.promoted.port));

    await cluster.restartNode(master);
    assert.ok((await published()).has(master), 'a restarted node is published again');

    const added = await cluster.addMaster();
    assert.ok((await published()).has(added.port));
    await cluster.removeNode(added.port);
    assert.ok(!(await published()).has(added.port));
    assert.deepEqual(await published(), new Set((await cluster.getNodes()).map((n) => n.port)));
  });

  it('ZooKeeperServer: kill keeps the data for restart; stop leaves no process and no dir', async function () {
    requireZooKeeper(this);
    zk = await ZooKeeperServer.start();
    store = new ZooKeeperStore(zk.connectString, { operationTimeoutMs: 20_000 });
    await store.write('/a/b', 'kept');
    const pid = liveEngineProcesses().find((p) => p.port === zk!.port)?.pid;
    assert.ok(pid, 'the server is tracked like a redis-server');
    await zk.kill();
    assert.equal(zk.running, false);
    await zk.restart();
    assert.equal(await store.read('/a/b'), 'kept');
    const dir = zk.dir;
    await zk.stop();
    zk = undefined;
    assert.equal(existsSync(dir), false);
    await waitFor(() => !liveEngineProcesses().some((p) => p.pid === pid), { timeoutMs: 5000, what: 'the process to be reaped' });
  });

  it('ZooKeeperServer: when its owner is SIGKILLed the watchdog kills it and removes its dir', async function () {
    requireZooKeeper(this);
    const child = spawnFixture('test/fixtures/zookeeper-child.ts', {});
    const up = (await child.next('up')) as { pid: number; dir: string };
    assert.ok(up.pid > 0 && existsSync(up.dir));
    child.proc.kill('SIGKILL');
    assert.equal(await child.exited, 'SIGKILL');
    await waitFor(() => isProcessGone(up.pid), { timeoutMs: 15_000, what: `ZooKeeper pid ${up.pid} to be gone` });
    await waitFor(() => !existsSync(up.dir), { timeoutMs: 15_000, what: `${up.dir} to be removed` });
  });
});
