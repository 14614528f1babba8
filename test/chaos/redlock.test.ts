/**
 * Redlock over 3 independent single-master clusters: a quorum of 2 grants
 * with one master down; with two down it fails with LockQuorumError naming
 * the unreachable instances, and leaves no partial grant behind.
 */
import assert from 'node:assert/strict';
import { ClusterClient, LockNotAcquiredError, LockQuorumError, Redlock } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';

describe('chaos: Redlock over 3 independent masters', function () {
  this.timeout(180_000);
  let clusters: StartedRedisCluster[] = [];
  let clients: ClusterClient[] = [];

  before(async () => {
    clusters = await Promise.all([0, 1, 2].map(() => new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).start()));
    clients = clusters.map((c) => new ClusterClient({ rootNodes: c.getRootNodes(), commandTimeoutMs: 2000 }));
    await Promise.all(clients.map((c) => c.connect()));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it('excludes a second holder while all are up; keeps working with one master down; fails clearly with two down, leaving nothing behind', async () => {
    const lock = new Redlock(clients, 'redlock-test', { leaseMs: 5000, instanceTimeoutMs: 300, retryDelayMs: 50 });
    const rival = new Redlock([...clients].reverse(), 'redlock-test', { leaseMs: 5000, instanceTimeoutMs: 300 });
    const h = await lock.acquire();
    assert.ok(h.remainingMs > 4000);
    assert.equal(await rival.tryAcquire(), null);
    await assert.rejects(rival.acquire({ waitMs: 100 }), LockNotAcquiredError);
    assert.equal(await h.release(), true);
    // using(): held for the callback (a rival is refused), released after it.
    assert.equal(await lock.using(async (signal) => !signal.aborted && (await rival.tryAcquire()) === null), true, 'held during using()');
    assert.equal(Number(await clients[2]!.exists(lock.keys.base)), 0, 'released after using()');

    await clusters[0]!.killNode(clusters[0]!.getRootNodes()[0]!.port);
    const one = await lock.acquire({ waitMs: 5000 });
    assert.ok(one.held);
    await one.extend(5000);
    assert.equal(await rival.tryAcquire(), null, 'the two live masters still exclude a rival');
    assert.equal(await one.release(), true);

    await clusters[1]!.killNode(clusters[1]!.getRootNodes()[0]!.port);
    const err = await lock.tryAcquire().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof LockQuorumError, `got ${String(err)}`);
    assert.equal(err.granted, 1);
    assert.equal(err.quorum, 2);
    assert.deepEqual(err.instances.map((i) => i.outcome), ['error', 'error', 'granted']);
    assert.match(err.instances[0]!.error!.name, /TimeoutError|ConnectionError|CircuitOpenError/);
    console.log(`      two masters down: ${err.message}`);
    assert.equal(Number(await clients[2]!.exists(lock.keys.base)), 0, 'no partial grant left on the live master');
  });

  it('bad input: no clients, the same client twice, instance timeout ≥ lease', () => {
    assert.throws(() => new Redlock([], 'x'), /clients/);
    assert.throws(() => new Redlock([clients[2]!, clients[2]!], 'x'), /twice/);
    assert.throws(() => new Redlock(clients, 'x', { leaseMs: 100, instanceTimeoutMs: 100 }), /instanceTimeoutMs/);
  });
});
