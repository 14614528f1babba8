import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { ClusterEngineError } from '../../lib/errors.js';
import { findRedisServer, RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { PortInUseError, RedisNodeProcess } from '../../testcontainers/node-process.js';
import { rawConnection } from '../helpers/cluster.js';

/** Listens on 127.0.0.1:`port` (0 = any free port); resolves with the server and its port, or undefined if taken. */
function listen(port: number): Promise<{ server: Server; port: number } | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

/** Occupies a free port; below 55535 when `low`, so that port + 10000 is still a valid bus port. */
async function occupy(servers: Server[], low = false): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const got = await listen(low ? 20_000 + Math.floor(Math.random() * 30_000) : 0);
    if (got) {
      servers.push(got.server);
      return got.port;
    }
  }
  throw new Error('no free port to occupy');
}

describe('engine: ports and persistence', function () {
  const servers: Server[] = [];
  const clusters: StartedRedisCluster[] = [];
  after(async () => {
    for (const s of servers) s.close();
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it('a port taken between probing and binding is detected from the node log ("Address already in use")', async () => {
    const port = await occupy(servers);
    const busPort = await occupy(servers);
    const { path } = await findRedisServer();
    const node = RedisNodeProcess.create({
      bin: path,
      ports: { port, busPort },
      nodeTimeoutMs: 2000,
      appendOnly: false,
      startupTimeoutMs: 10_000,
    });
    try {
      await assert.rejects(node.start(), (err: unknown) => err instanceof PortInUseError);
      assert.equal(node.pid, undefined, 'the failed process was reaped');
    } finally {
      await node.destroy();
    }
    assert.equal(existsSync(node.dir), false);
  });

  it('withPortRange() skips ports in use; withBasePort() on a taken port fails clearly', async () => {
    const port = await occupy(servers, true);
    // The range starts at the taken port; the cluster must use the next free ones.
    const cluster = await new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).withPortRange(port, port + 50).start();
    clusters.push(cluster);
    const [node] = await cluster.getNodes();
    assert.ok(node!.port > port && node!.port <= port + 50, `client port ${node!.port} in range, not the taken ${port}`);
    assert.ok(node!.busPort > port && node!.busPort <= port + 50 && node!.busPort !== node!.port);

    await assert.rejects(new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).withBasePort(port).start(), (err: unknown) => {
      assert.ok(err instanceof ClusterEngineError);
      assert.match(err.message, new RegExp(`port ${port} \\(node 0\\) is already in use on 127\\.0\\.0\\.1`));
      return true;
    });
  });

  it('withAppendOnly(): a restarted master keeps its data', async () => {
    const cluster = await new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).withAppendOnly().start();
    clusters.push(cluster);
    const port = cluster.getRootNodes()[0]!.port;
    const before = rawConnection(port, cluster);
    await before.set('durable', 'yes');
    before.disconnect();
    const report = await cluster.restartNode(port);
    assert.equal(report.role, 'master');
    const after = rawConnection(port, cluster);
    try {
      assert.equal(await after.get('durable'), 'yes');
    } finally {
      after.disconnect();
    }
  });
});
