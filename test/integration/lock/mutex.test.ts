/**
 * Mutex on the shared cluster: grants, fencing tokens, owner-checked
 * release/extend, waiting and wake-ups, fairness, bad input.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ClusterClient, FencingTokenRejectedError, InvalidArgumentError, LockLostError, LockNotAcquiredError, Mutex, fenced,
} from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('lock: Mutex', function () {
  let client: ClusterClient;
  let other: ClusterClient;
  const prefix = `t-mutex-${randomUUID().slice(0, 8)}`;
  let n = 0;
  const name = () => `${prefix}:${n++}`;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    other = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), other.connect()]);
  });
  after(async () => {
    await Promise.all([client?.quit(), other?.quit()]);
  });

  it('grants one holder at a time, with strictly increasing fencing tokens', async () => {
    const m = new Mutex(client, name(), { leaseMs: 5000 });
    const a = await m.acquire();
    assert.equal(await m.tryAcquire(), null);
    await assert.rejects(new Mutex(other, m.name).acquire({ waitMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof LockNotAcquiredError);
      assert.ok(e.remainingMs > 0 && e.remainingMs <= 5000, `remaining ${e.remainingMs}`);
      return true;
    });
    assert.equal(await a.release(), true);
    const b = await new Mutex(other, m.name).acquire();
    assert.ok(b.token > a.token, `${b.token} > ${a.token}`);
    assert.ok(b.acquiredAtUs >= a.releasedAtUs!, 'granted after the release (server time)');
    await b.release();
    const state = await m.inspect();
    assert.equal(state.held, false);
    assert.equal(state.fence, b.token);
  });
});
