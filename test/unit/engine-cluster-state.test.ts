import assert from 'node:assert/strict';
import {
  healthProblems,
  parseClusterNodes,
  parseInfo,
  rangesOf,
  slotMapSignature,
  slotOwners,
  splitSlots,
  type NodeObservation,
} from '../../testcontainers/cluster-state.js';

const A = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca';
const B = '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1';
const C = '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f';
const RA = '07c37dfeb235213a872192d90877d0cd55635b91';

const NODES = [
  `${RA} 127.0.0.1:30004@31004,host-4 slave ${A} 0 1426238317239 4 connected`,
  `${B} 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [93-<-${C}]`,
  `${C} 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [93->-${B}] 93`,
  `${A} 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-92 94-5460`,
  '',
].join('\n');

function view(lines: string[]): ReturnType<typeof parseClusterNodes> {
  return parseClusterNodes(lines.join('\n'));
}

describe('engine: CLUSTER NODES parsing', () => {
  it('parses addresses, roles, flags, epochs and slot ranges', () => {
    const nodes = parseClusterNodes(NODES);
    assert.equal(nodes.length, 4);
    const replica = nodes[0]!;
    assert.deepEqual(
      { id: replica.id, host: replica.host, port: replica.port, busPort: replica.busPort, hostname: replica.hostname, role: replica.role, masterId: replica.masterId },
      { id: RA, host: '127.0.0.1', port: 30004, busPort: 31004, hostname: 'host-4', role: 'replica', masterId: A },
    );
    const me = nodes.find((n) => n.myself)!;
    assert.equal(me.id, A);
    assert.equal(me.role, 'master');
    assert.deepEqual(me.flags, ['myself', 'master']);
    assert.deepEqual(me.slots, [[0, 92], [94, 5460]]);
    assert.equal(me.configEpoch, 1);
  });

  it('keeps migration markers apart from ownership', () => {
    const nodes = parseClusterNodes(NODES);
    const b = nodes.find((n) => n.id === B)!;
    const c = nodes.find((n) => n.id === C)!;
    assert.deepEqual(b.slots, [[5461, 10922]]);
    assert.deepEqual(b.importing, [{ slot: 93, from: C }]);
    assert.deepEqual(c.migrating, [{ slot: 93, to: B }]);
    assert.deepEqual(c.slots, [[93, 93], [10923, 16383]]);
  });

  it('recognises myself,slave, fail, fail?, handshake and noaddr', () => {
    const nodes = view([
      `${RA} 127.0.0.1:30004@31004 myself,slave ${A} 0 0 4 connected`,
      `${A} 127.0.0.1:30001@31001 master,fail - 1 2 1 disconnected 0-16383`,
      `${B} 127.0.0.1:30002@31002 master,fail? - 1 2 2 connected`,
      `${C} :0@0 handshake - 0 0 0 connected`,
      `aaaa${C.slice(4)} 127.0.0.1:30009@31009 master,noaddr - 0 0 0 disconnected`,
    ]);
    assert.equal(nodes[0]!.myself, true);
    assert.equal(nodes[0]!.role, 'replica');
    assert.equal(nodes[1]!.failed, true);
    assert.equal(nodes[1]!.linkState, 'disconnected');
    assert.equal(nodes[2]!.suspected, true);
    assert.equal(nodes[2]!.failed, false);
    assert.equal(nodes[3]!.incomplete, true);
    assert.equal(nodes[3]!.host, '');
    assert.equal(nodes[3]!.port, 0);
    assert.equal(nodes[4]!.incomplete, true);
  });

  it('parses INFO text', () => {
    assert.deepEqual(parseInfo('# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n'), { role: 'slave', master_link_status: 'up' });
  });
});

describe('engine: slot maps', () => {
  it('splits 16384 slots evenly and contiguously', () => {
    assert.deepEqual(splitSlots(3), [[0, 5460], [5461, 10921], [10922, 16383]]);
    assert.deepEqual(splitSlots(1), [[0, 16383]]);
    const seven = splitSlots(7);
    assert.equal(seven.reduce((n, [a, b]) => n + b - a + 1, 0), 16384);
  });

  it('computes owners, ranges and a canonical signature', () => {
    const owners = slotOwners(parseClusterNodes(NODES));
    assert.equal(owners[93], C);
    assert.equal(owners[0], A);
    assert.deepEqual(rangesOf(owners, A), [[0, 92], [94, 5460]]);
    assert.equal(slotMapSignature(owners), `0-92=${A},93-93=${C},94-5460=${A},5461-10922=${B},10923-16383=${C}`);
  });
});

describe('engine: health rules', () => {
  const line = (id: string, port: number, flags: string, master: string, slots: string) =>
    `${id} 127.0.0.1:${port}@${port + 1} ${flags} ${master} 0 0 1 connected ${slots}`.trim();
  const healthyLines = (me: string) => [
    line(A, 1, me === A ? 'myself,master' : 'master', '-', '0-8191'),
    line(B, 3, me === B ? 'myself,master' : 'master', '-', '8192-16383'),
    line(RA, 5, me === RA ? 'myself,slave' : 'slave', A, ''),
  ];
  const obs = (port: number, me: string, lines = healthyLines(me), extra: Partial<NodeObservation> = {}): NodeObservation => ({
    port,
    view: view(lines),
    clusterInfo: { cluster_state: 'ok' },
    ...(me === RA ? { masterLinkStatus: 'up' } : {}),
    ...extra,
  });
  const ids = new Set([A, B, RA]);

  it('accepts a cluster where everyone agrees', () => {
    assert.deepEqual(healthProblems([obs(1, A), obs(3, B), obs(5, RA)], ids), []);
  });

  it('reports uncovered slots, disagreement, open migrations, flags and replica links', () => {
    const uncovered = healthyLines(B).map((l) => l.replace('8192-16383', '8192-16000'));
    const problems = healthProblems([obs(1, A), obs(3, B, uncovered)], ids);
    assert.ok(problems.some((p) => /383 slots uncovered/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /disagrees/.test(p)), problems.join('\n'));

    const migrating = healthyLines(A).map((l) => (l.startsWith(A) ? `${l} [5->-${B}]` : l));
    assert.ok(healthProblems([obs(1, A, migrating)], ids).some((p) => /open slot migrations/.test(p)));

    const failing = healthyLines(A).map((l) => (l.startsWith(B) ? l.replace('master', 'master,fail?') : l));
    assert.ok(healthProblems([obs(1, A, failing)], ids).some((p) => /flags 67ed2db8/.test(p)));

    assert.ok(healthProblems([obs(5, RA, healthyLines(RA), { masterLinkStatus: 'down' })], ids).some((p) => /master_link_status:down/.test(p)));
    assert.ok(healthProblems([obs(1, A, healthyLines(A), { clusterInfo: { cluster_state: 'fail' } })], ids).some((p) => /cluster_state:fail/.test(p)));
  });

  it('requires slot owners to be live nodes', () => {
    const problems = healthProblems([obs(1, A)], new Set([A, RA]));
    assert.ok(problems.some((p) => /not live/.test(p)), problems.join('\n'));
  });
});
