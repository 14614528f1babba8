import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chooseView, fingerprintOf, type NodeAnswer } from '../../../lib/topology/consensus.js';
import type { ShardView } from '../../../lib/topology/parse.js';

const node = (id: string, port: number, role: 'master' | 'replica' = 'master') => ({ id, host: '127.0.0.1', port, role, health: 'online' as const });

/** Three shards; `owner` says which port serves slots 0–5460. */
function view(owner: 'a' | 'a2', extraMaster = false): ShardView[] {
  const first = owner === 'a'
    ? { ranges: [[0, 5460]] as [number, number][], master: node('A', 7000), replicas: [node('A2', 7003, 'replica')] }
    : { ranges: [[0, 5460]] as [number, number][], master: node('A2', 7003), replicas: [] };
  const shards: ShardView[] = [
    first,
    { ranges: [[5461, 10922]], master: node('B', 7001), replicas: [node('B2', 7004, 'replica')] },
    { ranges: [[10923, 16383]], master: node('C', 7002), replicas: [node('C2', 7005, 'replica')] },
  ];
  if (extraMaster) shards.push({ ranges: [], master: node('D', 7006), replicas: [] });
  return shards;
}

const answer = (source: string, shards: ShardView[], epoch: number): NodeAnswer => ({ source, shards, epoch });

describe('topology consensus (unit)', () => {
  it('fingerprints ignore shard order, replica order and health', () => {
    const a = view('a');
    const reordered = [a[2]!, a[0]!, a[1]!].map((s) => ({ ...s, replicas: [...s.replicas].reverse(), master: { ...s.master, health: 'failed' as const } }));
    assert.equal(fingerprintOf(a), fingerprintOf(reordered));
    assert.notEqual(fingerprintOf(view('a')), fingerprintOf(view('a2')));
  });

  it('the majority view wins over a higher-epoch minority', () => {
    const c = chooseView([answer('n1', view('a'), 5), answer('n2', view('a'), 5), answer('n3', view('a2'), 9)]);
    assert.equal(c?.fingerprint, fingerprintOf(view('a')));
    assert.equal(c?.votes, 2);
    assert.equal(c?.dissent, 1);
  });

  it('on a tie the view reported with the highest config epoch wins (newer failover)', () => {
    const c = chooseView([answer('n1', view('a'), 6), answer('n2', view('a2'), 7)]);
    assert.equal(c?.fingerprint, fingerprintOf(view('a2')));
    const d = chooseView([answer('n2', view('a2'), 7), answer('n1', view('a'), 6)]);
    assert.equal(d?.fingerprint, c?.fingerprint, 'order of answers does not matter');
  });

  it('on an epoch tie the view covering more slots wins', () => {
    const partial = view('a').slice(1);
    const c = chooseView([answer('n1', partial, 3), answer('n2', view('a'), 3)]);
    assert.equal(c?.fingerprint, fingerprintOf(view('a')));
  });

  it('three-way disagreement resolves by epoch; no answers → undefined', () => {
    const c = chooseView([answer('n1', view('a'), 1), answer('n2', view('a2'), 4), answer('n3', view('a', true), 2)]);
    assert.equal(c?.fingerprint, fingerprintOf(view('a2')));
    assert.equal(chooseView([]), undefined);
  });

  it('is deterministic whatever the order of answers', () => {
    const pool = [answer('n1', view('a'), 1), answer('n2', view('a2'), 1), answer('n3', view('a', true), 1), answer('n4', view('a'), 2)];
    fc.assert(fc.property(fc.shuffledSubarray(pool, { minLength: 1 }), (subset) => {
      const forward = chooseView(subset)?.fingerprint;
      const backward = chooseView([...subset].reverse())?.fingerprint;
      return forward === backward;
    }));
  });
});
