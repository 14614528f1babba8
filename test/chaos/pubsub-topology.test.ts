/**
 * Pub/sub while the cluster changes under it: a sharded subscription follows
 * its slot through a live reshard, a manual failover and a master kill -9;
 * a classic subscription moves off a killed node; keyspace notifications
 * keep coming from every master. Every message the server reports as
 * delivered (SPUBLISH/PUBLISH reply ≥ 1) reaches the handler exactly once,
 * and every window without a subscription is reported as a gap.
 */
import assert from 'node:assert/strict';
import { ClusterClient, KeyspaceNotificationsDisabledError, slotOf, type GapEvent, type KeyspaceEvent } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { rawConnection } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

/** Publishes numbered messages back to back; records which ones the server delivered to a subscriber. */
class Publisher {
  readonly delivered: number[] = [];
  readonly missed: { n: number; at: number }[] = [];
  errors = 0;
  #n = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  constructor(readonly publish: (message: string) => Promise<unknown>) {}
  start(): this {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        const n = this.#n++;
        try {
          const receivers = Number(await this.publish(String(n)));
          if (receivers >= 1) this.delivered.push(n);
          else this.missed.push({ n, at: Date.now() });
        } catch {
          this.errors++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
    return this;
  }
  get count(): number {
    return this.#n;
  }
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

function counts(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

describe('chaos: pub/sub across reshard, failover and kill -9', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  let publisher: ClusterClient;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 8000 });
    publisher = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 8000 });
    await Promise.all([client.connect(), publisher.connect()]);
  });
  after(async () => {
    await client?.quit();
    await publisher?.quit();
    await cluster?.stop();
  });

  const ownerPort = (c: ClusterClient, slot: number) => c.topology!.shardOf(slot)!.master.port;

  /** Subscribes to `channel`, runs `fault` under a continuous publisher, then checks delivery and the gap. */
  async function survives(channel: string, fault: () => Promise<unknown>, reason: GapEvent['reason']): Promise<GapEvent> {
    const received: string[] = [];
    const gaps: GapEvent[] = [];
    const sub = await client.ssubscribe(channel, (m) => void received.push(m));
    sub.on('gap', (g) => void gaps.push(g));
    const pub = new Publisher((m) => publisher.spublish(channel, m)).start();
    await waitFor(() => pub.delivered.length >= 20, { what: 'messages before the fault' });
    await fault();
    await waitFor(() => gaps.length > 0, { timeoutMs: 30_000, what: 'the gap event' });
    const afterGap = pub.delivered.length;
    await waitFor(() => pub.delivered.length >= afterGap + 50, { timeoutMs: 30_000, what: 'messages delivered after the move' });
    await pub.stop();
    await waitFor(() => pub.delivered.every((n) => received.includes(String(n))), { what: 'every delivered message received' });

    const dup = [...counts(received)].filter(([, k]) => k > 1);
    assert.deepEqual(dup, [], 'no message handled twice (one handler registration)');
    assert.equal(gaps.length, 1, `one gap: ${JSON.stringify(gaps)}`);
    const g = gaps[0]!;
    assert.equal(g.channel, channel);
    assert.equal(g.kind, 'ssubscribe');
    assert.equal(g.reason, reason);
    assert.ok(g.from <= g.to, 'gap window ordered');
    assert.equal(g.address, client.topology!.shardOf(slotOf(channel))!.master.address, 'resubscribed on the new owner');
    console.log(`      ${reason}: gap ${g.to - g.from} ms; ${received.length} received; ${pub.delivered.length} delivered, ${pub.missed.length} published with no subscriber, ${pub.errors} publish errors`);
    await sub.unsubscribe();
    return g;
  }

  it('a sharded subscription follows its slot through a live reshard', async () => {
    const channel = '{chaos-ps}:reshard';
    const slot = slotOf(channel);
    const from = ownerPort(client, slot);
    const to = client.topology!.shards.map((s) => s.master.port).find((p) => p !== from)!;
    await survives(channel, () => cluster.reshard({ from, to, slots: [slot] }), 'migrated');
    assert.equal(ownerPort(client, slot), to);
  });

  it('a sharded subscription follows its shard through a manual failover', async () => {
    const channel = '{chaos-ps}:failover';
    const slot = slotOf(channel);
    const master = ownerPort(client, slot);
    const replica = (await cluster.getNodes()).find((n) => n.role === 'replica' && n.masterPort === master)!;
    await survives(channel, () => cluster.failover(replica.port), 'migrated');
    // The resubscription waits for a view that no longer names the demoted master (which,
    // as a replica, would accept SSUBSCRIBE too) — unless the cluster took longer than the
    // client's stale-view window to agree, in which case the periodic refresh catches up.
    await waitFor(() => ownerPort(client, slot) === replica.port, { timeoutMs: 15_000, what: 'the promoted replica in the client view' });
  });

  it('keyspace helper: verify refuses a cluster without notify-keyspace-events, enable sets it on every node; expired events arrive from every master', async () => {
    // Start from a client view that agrees with the cluster (the failover above just moved a master).
    const masters = async () => (await cluster.getNodes()).filter((n) => n.role === 'master').map((n) => n.port).sort().join();
    const want = await masters();
    await waitFor(() => client.topology!.shards.map((s) => s.master.port).sort().join() === want, { timeoutMs: 15_000, what: 'the client view of the masters' });
    await assert.rejects(client.keyspaceEvents({ events: ['expired'] }, () => undefined), (e: unknown) =>
      e instanceof KeyspaceNotificationsDisabledError && e.missing === 'Ex' && /CONFIG SET notify-keyspace-events/.test(e.message));
    // What an operator does: CONFIG SET on EVERY node, replicas included (so a promoted replica
    // emits too). `config: 'enable'` does exactly that; check that it did.
    const enabled = await client.keyspaceEvents({ events: ['expired'], config: 'enable' }, () => undefined);
    await enabled.unsubscribe();
    for (const port of cluster.getPorts()) {
      const r = rawConnection(port, cluster);
      await r.connect();
      const [, value] = (await r.config('GET', 'notify-keyspace-events')) as [string, string];
      await r.quit();
      assert.ok(value.includes('E') && value.includes('x'), `node :${port} has notify-keyspace-events "${value}"`);
    }
    const events: KeyspaceEvent[] = [];
    const sub = await client.keyspaceEvents({ events: ['expired'] }, (e) => void events.push(e));
    const keys = Array.from({ length: 30 }, (_, i) => `ks-exp:${i}`);
    for (const k of keys) await publisher.set(k, '1', 'PX', 50);
    await waitFor(() => keys.every((k) => events.some((e) => e.key === k)), { timeoutMs: 15_000, what: 'an expired event per key' });
    assert.ok(events.every((e) => e.event === 'expired'));
    assert.equal(new Set(events.map((e) => e.address)).size, 3, 'events came from all 3 masters');
    await sub.unsubscribe();
  });

  it('kill -9 of the master: sharded, classic and keyspace subscriptions come back with a gap', async () => {
    const channel = '{chaos-ps}:kill';
    const slot = slotOf(channel);
    const victim = ownerPort(client, slot);
    // Classic subscription pinned (by round robin) somewhere; keyspace on every master.
    const classic: string[] = [];
    const classicGaps: GapEvent[] = [];
    const csub = await client.subscribe('chaos-classic', (m) => void classic.push(m));
    csub.on('gap', (g) => void classicGaps.push(g));
    const expired: KeyspaceEvent[] = [];
    const ksGaps: GapEvent[] = [];
    const ks = await client.keyspaceEvents({ events: ['expired'] }, (e) => void expired.push(e));
    ks.on('gap', (g) => void ksGaps.push(g));

    let report: Awaited<ReturnType<StartedRedisCluster['killNode']>> | undefined;
    await survives(channel, async () => {
      report = await cluster.killNode(victim);
    }, 'connection');
    assert.ok(report?.promoted, 'a replica was promoted');
    assert.equal(ownerPort(client, slot), report.promoted.port);

    // Classic: PUBLISH reaches every node; whatever node we were on, delivery works now.
    const pub = new Publisher((m) => publisher.publish('chaos-classic', m)).start();
    await waitFor(() => pub.delivered.length >= 30, { timeoutMs: 20_000, what: 'classic messages' });
    await pub.stop();
    await waitFor(() => pub.delivered.every((n) => classic.includes(String(n))), { what: 'classic messages received' });
    assert.deepEqual([...counts(classic)].filter(([, k]) => k > 1), []);

    // Keyspace: the promoted master's expirations arrive; its loss was reported as a gap.
    await waitFor(() => ksGaps.length > 0, { timeoutMs: 20_000, what: 'keyspace gap' });
    const key = '{chaos-ps}:exp'; // same hash tag as the channel: expires on the promoted master
    await publisher.set(key, '1', 'PX', 50);
    await waitFor(() => expired.some((e) => e.key === key && e.address === client.topology!.shardOf(slot)!.master.address), {
      timeoutMs: 15_000, what: 'expired event from the promoted master',
    });
    console.log(`      keyspace gap ${ksGaps[0]!.to - ksGaps[0]!.from} ms; classic gaps: ${classicGaps.length}`);
    await ks.unsubscribe();
    await csub.unsubscribe();
  });
});
