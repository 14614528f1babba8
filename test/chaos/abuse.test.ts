/**
 * Bounded under abuse, on a private cluster:
 * - 1,000,000 commands issued against a master frozen with SIGSTOP: at most
 *   max(maxWaitingCommands, 1000) wait for it, the excess fails at once with
 *   QueueFullError, the waiting ones complete after SIGCONT, and the heap
 *   returns to within 10 % of its baseline;
 * - a value larger than the server's proto-max-bulk-len (set small with
 *   CONFIG SET) gets a reply error at once, not a hang, and the client goes on.
 */
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClusterClient, QueueFullError, RedisReplyError, slotOf } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { waitFor } from '../helpers/wait.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;

describe('chaos: bounded under abuse', function () {
  // ~40 s for the flood on an idle 2-core machine; more when others load it.
  this.timeout(300_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient | undefined;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).withNodeTimeoutMs(60_000).start();
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it('1,000,000 commands against a SIGSTOPped master: bounded by maxWaitingCommands, heap back within 10 % after SIGCONT', async () => {
    const maxWaitingCommands = 10_000;
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), maxWaitingCommands, commandTimeoutMs: 120_000 });
    await client.connect();
    const victim = cluster.getRootNodes()[0]!.port;
    const shard = client.topology!.shards.find((s) => s.master.port === victim)!;
    let key = '';
    for (let i = 0; key === ''; i++) if (client.topology!.shardOf(slotOf(`abuse:${i}`)) === shard) key = `abuse:${i}`;
    await client.set(key, 'v');
    // Warm the paths the flood takes (and their rejections) before the baseline.
    for (let i = 0; i < 2000; i++) await client.get(key);
    const baseline = settledHeap();

    await cluster.pauseNode(victim);
    let full = 0;
    let ok = 0;
    let other: unknown;
    const TOTAL = 1_000_000;
    for (let issued = 0; issued < TOTAL; ) {
      for (const end = issued + 10_000; issued < end; issued++) {
        client.get(key).then(
          () => ok++,
          (e: unknown) => {
            if (e instanceof QueueFullError) full++;
            else other ??= e;
          },
        );
      }
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => full + ok >= TOTAL - maxWaitingCommands, { timeoutMs: 30_000, what: 'the excess to fail' });
    const waiting = TOTAL - full - ok;
    const heapWhilePaused = settledHeap();
    assert.equal(other, undefined, `only QueueFullError for the excess, got ${String(other)}`);
    assert.equal(ok, 0, 'nothing was answered by a frozen node');
    assert.ok(waiting <= maxWaitingCommands, `${waiting} commands wait for the frozen node (bound ${maxWaitingCommands})`);
    assert.ok(waiting > 0, 'commands up to the bound were accepted');

    await cluster.resumeNode(victim);
    await waitFor(() => ok + full === TOTAL, { timeoutMs: 30_000, what: 'every waiting command to complete after SIGCONT' });
    assert.equal(ok, waiting, 'every accepted command completed');
    assert.equal(await client.get(key), 'v');
    const after = settledHeap();
    console.log(`      heap: baseline ${(baseline / MB).toFixed(1)} MB, while paused ${(heapWhilePaused / MB).toFixed(1)} MB, after resume ${(after / MB).toFixed(1)} MB; ` +
      `${full} QueueFullError, ${waiting} waited`);
    assert.ok(after <= baseline * 1.1, `heap after resume ${(after / MB).toFixed(1)} MB is within 10 % of the baseline ${(baseline / MB).toFixed(1)} MB`);
  });

  it('a value larger than proto-max-bulk-len: a reply error at once, not a hang; the client goes on', async () => {
    client ??= new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
    // 1 MB is the smallest limit Redis accepts.
    await Promise.all(client.nodes('master').map((n) => n.call('config', 'set', 'proto-max-bulk-len', String(MB))));
    const started = Date.now();
    const around = [client.set('{big}:before', 'a'), client.set('{big}:value', Buffer.alloc(MB + 1, 1)), client.set('{big}:after', 'b')];
    const [before, big, afterBig] = await Promise.allSettled(around);
    assert.equal(big!.status, 'rejected');
    const err = (big as PromiseRejectedResult).reason as Error;
    assert.ok(err instanceof RedisReplyError, `a reply error, got ${String(err)}`);
    assert.match(err.message, /bulk length/i);
    assert.ok(Date.now() - started < client.options.commandTimeoutMs, 'answered, not timed out');
    assert.equal(before!.status, 'fulfilled');
    // The server closes the connection after a protocol error: an idempotent SET written behind it is retried.
    assert.equal(afterBig!.status, 'fulfilled', String((afterBig as PromiseRejectedResult).reason));
    assert.deepEqual(await client.mget(['{big}:before', '{big}:value', '{big}:after']), ['a', null, 'b']);
  });
});
