import assert from 'node:assert/strict';
import { detectContainerRuntime, RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { InvalidArgumentError } from '../../lib/errors.js';

/**
 * The container path. It needs a reachable container runtime, detected by
 * testcontainers itself (a `docker` binary on PATH proves nothing); without
 * one the cluster test is skipped and says why.
 */
describe('engine: container runtime (docker)', function () {
  let cluster: StartedRedisCluster | undefined;
  after(async () => {
    await cluster?.stop();
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

  it('runs a 3×0 cluster in containers on the host network and kills/restarts a node', async function () {
    const rt = await detectContainerRuntime();
    if (!rt.available) {
      this.test!.title += ` — skipped: ${rt.reason}`;
      this.skip();
    }
    this.timeout(300_000); // first run pulls the image
    cluster = await new RedisClusterContainer().withRuntime('docker').withMasters(3).withReplicasPerMaster(0).start();
    assert.deepEqual(await cluster.healthProblems(), []);
    const [first] = cluster.getRootNodes();
    const kill = await cluster.killNode(first!.port);
    assert.equal(kill.slotsUncovered, true);
    const back = await cluster.restartNode(first!.port);
    assert.equal(back.role, 'master');
    assert.deepEqual(await cluster.healthProblems(), []);
  });
});
