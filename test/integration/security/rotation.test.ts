/**
 * Credential rotation under load: an ACL user's password is rotated twice
 * the way operators do it (add the new one, switch the provider, remove the
 * old one, kill every connection of the user) while a 32-way load, a
 * subscription and a blocked BLPOP run. Callers see nothing.
 */
import assert from 'node:assert/strict';
import { AuthError, ClusterClient, type Credentials } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { trackedRawConnections } from '../../helpers/cluster.js';
import { describeErrors, Load, lostWrites } from '../../helpers/load.js';
import { waitFor } from '../../helpers/wait.js';

describe('security: credential rotation', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  const clients: ClusterClient[] = [];
  const raw = trackedRawConnections();

  /** Runs one command on every node (masters and replicas: ACLs are per node). */
  async function onEveryNode(...args: (string | number)[]): Promise<void> {
    await Promise.all(cluster.getPorts().map((p) => raw(p, cluster).call(...(args as [string, ...string[]]))));
  }

  before(async () => {
    // The engine's own user ('admin') is not the one being rotated.
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withUser('admin', 'admin-pw').start();
    await onEveryNode('ACL', 'SETUSER', 'app', 'on', '>pw-A', '~*', '&*', '+@all');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await cluster?.stop();
  });

  function client(provider: () => Promise<Credentials>): ClusterClient {
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), credentialsProvider: provider, commandTimeoutMs: 8000 });
    clients.push(c);
    return c;
  }

  it('rotating twice under a 32-way load, a subscription and a blocked BLPOP: 0 errors, 0 lost writes, messages keep coming, BLPOP served', async () => {
    let current: Credentials = { username: 'app', password: 'pw-A' };
    let providerCalls = 0;
    const c = client(async () => (providerCalls++, current));
    await c.connect();

    const received: string[] = [];
    const sub = await c.subscribe('rot:chan', (m) => void received.push(m));
    let published = 0;
    const ping = async () => {
      const m = `m${++published}`;
      await waitFor(async () => (await c.publish('rot:chan', m), received.includes(m)), { timeoutMs: 20_000, what: `message ${m} through the subscription` });
    };
    await ping();
    const popped = c.blpop('rot:{list}', 0);
    await waitFor(
      async () => {
        const infos = await Promise.all(cluster.getRootNodes().map((n) => raw(n.port, cluster).info('clients')));
        return infos.some((i) => /blocked_clients:1/.test(i));
      },
      { what: 'the BLPOP to block on its node' },
    );
    const load = new Load(c, { workers: 32, keysPerWorker: 20, prefix: 'rot' }).start();
    await waitFor(() => load.ops > 2000, { timeoutMs: 30_000, what: 'warm-up load' });

    for (const next of ['pw-B', 'pw-C']) {
      const old = current.password;
      await onEveryNode('ACL', 'SETUSER', 'app', `>${next}`);
      current = { username: 'app', password: next };
      await c.reauthenticate();
      await onEveryNode('ACL', 'SETUSER', 'app', `<${old}`);
      await onEveryNode('CLIENT', 'KILL', 'USER', 'app');
      const at = load.ops;
      await waitFor(() => load.ops > at + 1000, { timeoutMs: 30_000, what: `load after rotating to ${next}` });
      await ping();
    }

    await c.lpush('rot:{list}', 'job-1');
    assert.deepEqual(await popped, ['rot:{list}', 'job-1']);
    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(await lostWrites(c, result.acked), []);
    assert.ok(providerCalls > 3, `provider asked for new connections (${providerCalls} calls)`);
    // The kills were real: every master's multiplexed connection was lost twice and came back.
    const losses = c.nodes('master').map((n) => n.stats.connectionLosses);
    assert.ok(losses.every((l) => l >= 2), `connection losses per master: ${losses.join(', ')}`);
    await sub.unsubscribe();
  });

  it('reauthenticate() re-AUTHs every live connection (multiplexed, idle pooled, subscriber) without dropping in-flight commands', async () => {
    await onEveryNode('ACL', 'SETUSER', 'app1', 'on', '>pw-1', '~*', '&*', '+@all');
    await onEveryNode('ACL', 'SETUSER', 'app2', 'on', '>pw-2', '~*', '&*', '+@all');
    let current: Credentials = { username: 'app1', password: 'pw-1' };
    const c = client(async () => current);
    await c.connect();
    const sub = await c.subscribe('rot:re', () => undefined);
    await c.withConnection('rot:pooled', (conn) => conn.call('PING'));
    const load = new Load(c, { workers: 8, keysPerWorker: 10, prefix: 'reauth' }).start();
    await waitFor(() => load.ops > 500, { what: 'load' });
    current = { username: 'app2', password: 'pw-2' };
    await c.reauthenticate();
    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    const lists = await Promise.all(cluster.getPorts().map((p) => raw(p, cluster).call('CLIENT', 'LIST') as Promise<string>));
    const ours = lists.flatMap((l) => l.split('\n')).filter((line) => /name=slotwise/.test(line));
    assert.ok(ours.some((l) => /name=slotwise:subscriber/.test(l)) && ours.some((l) => /name=slotwise:dedicated/.test(l)), ours.join('\n'));
    assert.deepEqual(ours.filter((l) => / user=app1 /.test(l)), [], 'no connection left logged in as the old user');
    assert.ok(ours.filter((l) => / user=app2 /.test(l)).length >= 3 + 2);
    await sub.unsubscribe();
  });

  it('a WRONGPASS on connect asks the provider once more, then fails with AuthError (no password in it, no retry storm)', async () => {
    const calls: number[] = [];
    const wrong = client(async () => (calls.push(Date.now()), { username: 'app', password: 'not-the-password' }));
    const err = await wrong.connect().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AuthError, `got ${String(err)}`);
    assert.equal(err.code, 'ERR_SLOTWISE_AUTH');
    assert.equal(err.reason, 'WRONGPASS');
    assert.equal(err.username, 'app');
    assert.match(err.message, /Authentication as user "app" failed on 127\.0\.0\.1:\d+: WRONGPASS/);
    assert.doesNotMatch(`${err.message} ${String(err.cause)} ${JSON.stringify(err)}`, /not-the-password/);
    // One connection attempt per node asked, each with exactly one second provider call.
    assert.ok(calls.length <= 2 * 3, `${calls.length} provider calls`);

    // The provider rotated in between: the second call's answer is used.
    let n = 0;
    const late = client(async () => ({ username: 'app', password: n++ === 0 ? 'stale' : 'pw-C' }));
    await late.connect();
    assert.equal(await late.set('rot:late', '1'), 'OK');
  });

  it('static username/password keep working; a provider that throws gives AuthError with reason PROVIDER', async () => {
    const s = new ClusterClient({ rootNodes: cluster.getRootNodes(), username: 'app', password: 'pw-C' });
    clients.push(s);
    await s.connect();
    assert.equal(await s.set('rot:static', '1'), 'OK');
    await s.reauthenticate();
    assert.equal(await s.get('rot:static'), '1');

    const failing = client(async () => {
      throw new Error('vault unreachable: token=secret-token');
    });
    const err = await failing.connect().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AuthError && err.reason === 'PROVIDER', `got ${String(err)}`);
    assert.doesNotMatch(err.message, /secret-token/);
  });
});
