/**
 * A master frozen with SIGSTOP for 10 s (node timeout long enough that no
 * failover happens), a command timeout short next to the freeze (1 s): its breaker opens, commands to
 * its slots fail fast with CircuitOpenError while the other shards are
 * unaffected, and after SIGCONT the breaker closes by itself.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { CircuitOpenError, ClusterClient, type BreakerState } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { Load, describeErrors, percentile } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

describe('chaos: master SIGSTOP and the circuit breaker', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(20_000).start();
  });
  let client: ClusterClient | undefined;
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it('opens, fails fast on the frozen shard only, and closes by itself after SIGCONT', async () => {
    client = new ClusterClient({
      rootNodes: cluster.getRootNodes(),
      commandTimeoutMs: 1000,
      circuitBreaker: { failFast: true, failureThreshold: 5, resetTimeoutMs: 1000 },
    });
    const transitions: { state: BreakerState; at: number; address: string }[] = [];
    client.on('breaker', ({ address, state }) => transitions.push({ address, state, at: Date.now() }));
    await client.connect();
    const victim = cluster.getRootNodes()[1]!.port;
    const victimAddress = `127.0.0.1:${victim}`;
    const snap = client.topology!;
    const shard = snap.shards.find((s) => s.master.port === victim)!;
    const victimSlots = new Set<number>();
    for (const [a, b] of snap.ranges(shard.index)) for (let s = a; s <= b; s++) victimSlots.add(s);

    const load = new Load(client, { workers: 24, keysPerWorker: 30, prefix: 'pause' }).start();
    await waitFor(() => load.ops > 3000, { timeoutMs: 20_000, what: 'warm-up load' });
    // A baseline window after warm-up (connections open, code hot).
    const baselineFrom = Date.now();
    await waitFor(() => Date.now() - baselineFrom > 2000, { timeoutMs: 10_000, what: 'baseline window' });
    const paused = await cluster.pauseNode(victim);
    await waitFor(() => transitions.some((t) => t.address === victimAddress && t.state === 'open'), { timeoutMs: 5000, what: 'breaker to open' });
    const openedAt = transitions.find((t) => t.state === 'open')!.at;
    // The fault scenario: the node stays frozen for 10 s in total.
    await delay(Math.max(0, paused.pausedAt + 10_000 - Date.now()));
    const resumed = await cluster.resumeNode(victim);
    await waitFor(() => transitions.some((t) => t.address === victimAddress && t.state === 'closed' && t.at >= resumed.at), {
      timeoutMs: 10_000, what: 'breaker to close after SIGCONT',
    });
    const closedAt = Date.now();
    const opsAtClose = load.ops;
    await waitFor(() => load.ops > opsAtClose + 2000, { timeoutMs: 10_000, what: 'load after recovery' });
    const result = await load.stop();

    const onVictim = (s: { slot: number }) => victimSlots.has(s.slot);
    const fastFails = result.samples.filter((s) => onVictim(s) && !s.ok && s.at > openedAt + 50 && s.at < resumed.at);
    assert.ok(fastFails.length > 10, `commands to the frozen shard failed while it was frozen (${fastFails.length})`);
    assert.ok(percentile(fastFails.map((s) => s.ms), 99) < 50, 'they failed fast, not after the 1000 ms timeout');
    const victimErrors = result.errors;
    assert.ok(victimErrors.every((e) => e instanceof CircuitOpenError || (e as { code?: string }).code === 'ERR_SLOTWISE_TIMEOUT'),
      describeErrors(victimErrors));
    const otherFailures = result.samples.filter((s) => !onVictim(s) && !s.ok);
    assert.equal(otherFailures.length, 0, 'no command to another shard failed');
    const otherBefore = result.samples.filter((s) => !onVictim(s) && s.at >= baselineFrom && s.at < paused.pausedAt).map((s) => s.ms);
    const otherDuring = result.samples.filter((s) => !onVictim(s) && s.at >= paused.pausedAt && s.at < resumed.at).map((s) => s.ms);
    const p99Before = percentile(otherBefore, 99);
    const p99During = percentile(otherDuring, 99);
    console.log(`      breaker opened ${openedAt - paused.pausedAt} ms after SIGSTOP, closed ${closedAt - resumed.at} ms after SIGCONT; ` +
      `other shards p99 ${p99Before} ms → ${p99During} ms`);
    assert.ok(p99During <= Math.max(2 * p99Before, p99Before + 20), `other shards p99 ${p99During} ms vs ${p99Before} ms before`);
    const afterRecovery = result.samples.filter((s) => onVictim(s) && s.at > closedAt);
    assert.ok(afterRecovery.length > 0 && afterRecovery.every((s) => s.ok), 'the frozen shard serves again after SIGCONT');
  });
});
