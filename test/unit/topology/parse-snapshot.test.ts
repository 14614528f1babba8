import assert from 'node:assert/strict';
import { parseClusterShards, parseClusterSlots, parseCurrentEpoch } from '../../../lib/topology/parse.js';
import { TopologySnapshot } from '../../../lib/topology/snapshot.js';
import { createAddressMapper } from '../../../lib/topology/address-map.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

// CLUSTER SHARDS as ioredis returns it under RESP2 (and RESP3 with the default reply mapping).
const shardsResp2 = [
  ['slots', [0, 5460], 'nodes', [
    ['id', 'aaa', 'port', 7000, 'ip', '10.0.0.1', 'endpoint', '10.0.0.1', 'role', 'master', 'replication-offset', 10, 'health', 'online'],
    ['id', 'ddd', 'port', 7003, 'ip', '10.0.0.4', 'endpoint', '10.0.0.4', 'role', 'replica', 'replication-offset', 10, 'health', 'online'],
  ]],
  ['slots', [5461, 10922], 'nodes', [
    ['id', 'bbb', 'port', 7001, 'ip', '10.0.0.2', 'endpoint', '?', 'role', 'master', 'replication-offset', 10, 'health', 'online'],
  ]],
  ['slots', [10923, 16000, 16001, 16383], 'nodes', [
    ['id', 'ccc', 'port', 7002, 'ip', '10.0.0.3', 'endpoint', 'redis-c.local', 'hostname', 'redis-c', 'role', 'master', 'replication-offset', 10, 'health', 'online'],
  ]],
  // what remains of a failed-over master: no slots, failed → not part of the map
  ['slots', [], 'nodes', [['id', 'eee', 'port', 7009, 'ip', '10.0.0.9', 'endpoint', '10.0.0.9', 'role', 'master', 'replication-offset', 1, 'health', 'fail']]],
];

describe('CLUSTER reply parsing and snapshots (unit)', () => {
  it('parses CLUSTER SHARDS (RESP2 arrays) with endpoint fallbacks', () => {
    const shards = parseClusterShards(shardsResp2, '10.0.0.1');
    assert.equal(shards.length, 3);
    assert.deepEqual(shards[0]!.ranges, [[0, 5460]]);
    assert.equal(shards[0]!.replicas[0]!.port, 7003);
    assert.equal(shards[1]!.master.host, '10.0.0.2', '"?" endpoint falls back to ip');
    assert.equal(shards[2]!.master.host, 'redis-c.local');
    assert.equal(shards[2]!.master.hostname, 'redis-c');
    assert.deepEqual(shards[2]!.ranges, [[10923, 16000], [16001, 16383]]);
  });

  it('parses CLUSTER SHARDS in RESP3 map form', () => {
    const asMaps = shardsResp2.map((s) => {
      const rec: Record<string, unknown> = { slots: s[1], nodes: (s[3] as unknown[][]).map((n) => Object.fromEntries(pairs(n))) };
      return new Map(Object.entries(rec));
    });
    assert.deepEqual(parseClusterShards(asMaps, '10.0.0.1'), parseClusterShards(shardsResp2, '10.0.0.1'));
  });

  it('parses CLUSTER SLOTS into shards grouped by master', () => {
    const slots = [
      [0, 100, ['10.0.0.1', 7000, 'aaa'], ['10.0.0.4', 7003, 'ddd']],
      [101, 200, ['10.0.0.2', 7001, 'bbb', ['hostname', 'b']]],
      [201, 16383, ['10.0.0.1', 7000, 'aaa'], ['10.0.0.4', 7003, 'ddd']],
    ];
    const shards = parseClusterSlots(slots, 'x');
    assert.equal(shards.length, 2);
    assert.deepEqual(shards[0]!.ranges, [[0, 100], [201, 16383]]);
    assert.equal(shards[0]!.replicas.length, 1);
    assert.equal(shards[1]!.master.hostname, 'b');
  });

  it('reads cluster_current_epoch', () => {
    assert.equal(parseCurrentEpoch('cluster_state:ok\r\ncluster_current_epoch:17\r\ncluster_my_epoch:3\r\n'), 17);
    assert.equal(parseCurrentEpoch(''), 0);
  });

  it('builds a slot table, applies natMap, and patches one slot per MOVED without mutating', () => {
    const map = createAddressMapper({ '10.0.0.1:7000': { host: '127.0.0.1', port: 17000 } });
    const snap = TopologySnapshot.fromViews(parseClusterShards(shardsResp2, '10.0.0.1'), map, 1, 'fp');
    assert.equal(snap.shardOf(0)!.master.address, '127.0.0.1:17000');
    assert.equal(snap.shardOf(0)!.master.announced, '10.0.0.1:7000');
    assert.equal(snap.shardOf(16383)!.master.address, 'redis-c.local:7002');
    assert.equal(snap.uncoveredSlots(), 0);
    assert.deepEqual(snap.ranges(2), [[10923, 16383]]);

    const moved = snap.withSlotMoved(5, { host: '10.0.0.2', port: 7001 }, '10.0.0.2:7001', 2);
    assert.equal(moved.shardOf(5)!.master.address, '10.0.0.2:7001');
    assert.equal(snap.shardOf(5)!.master.address, '127.0.0.1:17000', 'the old snapshot is unchanged');
    assert.equal(moved.fingerprint, '', 'a patched snapshot is unconfirmed');
    assert.equal(moved.withSlotMoved(5, { host: '10.0.0.2', port: 7001 }, '10.0.0.2:7001', 3), moved, 'no-op patch returns the same snapshot');

    const fresh = moved.withSlotMoved(6, { host: '10.9.9.9', port: 1 }, '10.9.9.9:1', 3);
    assert.equal(fresh.shards.length, 4, 'an unknown target becomes a provisional shard');
    assert.equal(fresh.shardOf(6)!.master.health, 'unknown');
  });

  it('natMap functions and objects are validated', () => {
    const fn = createAddressMapper(({ host, port }) => (host === '10.0.0.1' ? { host: 'localhost', port: port + 1 } : undefined));
    assert.deepEqual(fn('10.0.0.1', 7000), { host: 'localhost', port: 7001 });
    assert.deepEqual(fn('10.0.0.2', 7000), { host: '10.0.0.2', port: 7000 });
    assert.throws(() => createAddressMapper({ 'a:1': { host: '', port: 1 } }), InvalidArgumentError);
    const bad = createAddressMapper(() => ({ host: 'x', port: -1 }));
    assert.throws(() => bad('a', 1), /natMap\(a:1\)/);
  });
});

function pairs(a: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i < a.length; i += 2) out.push([String(a[i]), a[i + 1]]);
  return out;
}
