import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../../lib/index.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { detectContainerRuntime, liveEngineContainers, RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { containersOf, networksOf, requireDocker, TEST_IMAGE } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A client that must keep answering through every step; returns it connected. */
async function clientOf(cluster: StartedRedisCluster): Promise<ClusterClient> {
  const client = new ClusterClient({ ...cluster.getClientOptions(), commandTimeoutMs: 10_000 });
  await client.connect();
  return client;
}

async function roundTrip(client: ClusterClient, tag: string): Promise<void> {
  const keys = Array.from({ length: 30 }, (_, i) => `docker:${tag}:${i}`);
  await Promise.all(keys.map((k) => client.set(k, tag)));
  assert.deepEqual(await client.mget(keys), keys.map(() => tag));
}

/**
 * The container path, run for real wherever a container runtime answers
 * (CI starts dockerd; see .ci/run): a 3×1 cluster in containers on the host
 * network and on a private bridge network, every fault and topology change,
 * and no container left behind — also when the owning process is SIGKILLed.
 * Without a runtime each test is skipped and says why.
 */
describe('engine: container runtime (docker)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    await client?.quit();
    client = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  it('withRuntime("docker") without a reachable runtime fails with the reason', async function () {
    const rt = await detectContainerRuntime();
    if (rt.available) this.skip();
    await assert.rejects(new RedisClusterContainer().withRuntime('docker').start(), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /no container runtime is reachable \(testcontainers found no container runtime/);
      return true;
    });
  });

  it('host network: 3×1 in containers survives kill, restart, failover, reshard, add and remove; stop() leaves no container', async function () {
    await requireDocker(this);
    cluster = await new RedisClusterContainer().withRuntime('docker').withImage(TEST_IMAGE).withNetworkMode('host').start();
    console.log(`      3×1 in containers (host network) healthy in ${cluster.startupMs} ms`);
    assert.equal(cluster.networkMode, 'host');
    assert.equal(cluster.getNatMap(), undefined, 'on the host network announced addresses are reachable as they are');
    assert.equal((await containersOf(process.pid)).length, 6);
    client = await clientOf(cluster);
    await roundTrip(client, 'start');

    const victim = cluster.getRootNodes()[0]!.port;
    const kill = await cluster.killNode(victim);
    assert.ok(kill.promoted, 'the replica took over');
    await roundTrip(client, 'killed');
    const back = await cluster.restartNode(victim);
    assert.equal(back.role, 'replica');
    await cluster.failover(victim);
    await roundTrip(client, 'failed-back');

    const [a, b] = cluster.getRootNodes();
    const moved = await cluster.reshard({ from: a!.port, to: b!.port, slots: 200 });
    assert.equal(moved.slots.length, 200);
    const added = await cluster.addMaster();
    await cluster.reshard({ from: b!.port, to: added.port, slots: 100 });
    await roundTrip(client, 'resharded');
    const removed = await cluster.removeNode(added.port);
    assert.equal(removed.movedSlots, 100);
    await roundTrip(client, 'removed');
    assert.deepEqual(await cluster.healthProblems(), []);

    await client.quit();
    client = undefined;
    await cluster.stop();
    cluster = undefined;
    assert.deepEqual(await containersOf(process.pid), []);
    assert.deepEqual(liveEngineContainers(), []);
  });

  it('bridge network: nodes announce container IPs, clients reach them through getNatMap(); a node restarts on a new container IP', async function () {
    await requireDocker(this);
    cluster = await new RedisClusterContainer().withRuntime('docker').withImage(TEST_IMAGE).withNetworkMode('bridge').withAppendOnly().start();
    console.log(`      3×1 in containers (bridge network) healthy in ${cluster.startupMs} ms`);
    assert.equal(cluster.networkMode, 'bridge');
    const nodes = await cluster.getNodes();
    for (const n of nodes) {
      assert.equal(n.host, '127.0.0.1', 'reached through its port published on loopback');
      assert.notEqual(n.announcedIp, '127.0.0.1', 'announces its container IP');
    }
    const natMap = cluster.getClientOptions().natMap;
    assert.equal(typeof natMap, 'function');
    client = await clientOf(cluster);
    for (const n of client.topology!.nodes()) {
      assert.equal(n.host, '127.0.0.1');
      assert.match(n.announced, /^\d+\.\d+\.\d+\.\d+:\d+$/);
      assert.doesNotMatch(n.announced, /^127\./);
    }
    await roundTrip(client, 'bridge');

    const victim = nodes[0]!;
    const move = await cluster.restartNodeWithNewIp(victim.port);
    assert.notEqual(move.ip, move.previousIp);
    assert.equal(move.previousIp, victim.announcedIp);
    assert.equal((await cluster.getNodes()).find((n) => n.port === victim.port)!.announcedIp, move.ip);
    await waitFor(() => client!.topology!.nodes().some((n) => n.announced === `${move.ip}:${victim.port}`), {
      timeoutMs: 15_000, what: 'the client to learn the new container IP',
    });
    await roundTrip(client, 'moved');

    const network = (await networksOf(process.pid))[0];
    assert.ok(network, 'the cluster has its own network');
    await client.quit();
    client = undefined;
    await cluster.stop();
    cluster = undefined;
    assert.deepEqual(await containersOf(process.pid), []);
    assert.deepEqual(await networksOf(process.pid), [], 'the network is removed too');
  });

  it('mutual TLS in containers (bridge network): TLS-only nodes, a client with getClientOptions().tls, a master kill', async function () {
    await requireDocker(this);
    cluster = await new RedisClusterContainer().withRuntime('docker').withImage(TEST_IMAGE).withNetworkMode('bridge').withTls({ mutual: true }).start();
    console.log(`      3×1 mutual-TLS in containers (bridge network) healthy in ${cluster.startupMs} ms`);
    assert.ok(cluster.getClientOptions().tls?.cert, 'client options carry the client certificate');
    assert.ok(cluster.getConnectionUrls().every((u) => u.startsWith('rediss://')));
    client = await clientOf(cluster);
    await roundTrip(client, 'tls');
    const kill = await cluster.killNode(cluster.getRootNodes()[0]!.port);
    assert.ok(kill.promoted, 'the replica took over over the TLS cluster bus');
    await roundTrip(client, 'tls-killed');
  });

  it('a SIGKILLed test process leaves no container and no network behind', async function () {
    await requireDocker(this);
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'fixtures', 'docker-child.ts')], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor(() => stdout.includes('\n') || child.exitCode !== null, { timeoutMs: 60_000, what: 'the child to start its cluster' });
      assert.ok(stdout.includes('"pid"'), `the child reported its cluster:\n${stderr}`);
      const pid = child.pid!;
      assert.equal((await containersOf(pid)).length, 2);
      assert.equal((await networksOf(pid)).length, 1);
      child.kill('SIGKILL');
      await exited;
      await waitFor(async () => (await containersOf(pid)).length === 0 && (await networksOf(pid)).length === 0, {
        timeoutMs: 30_000, what: `containers and network of the killed process ${pid} to be removed`,
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
