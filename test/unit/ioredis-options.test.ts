/**
 * ioredis ClusterOptions → ClusterClient options (lib/ioredis/options.ts):
 * every mapped option lands where docs/14-ioredis-compat.md says, bad values
 * are typed errors, and options without a meaning are listed, never dropped.
 */
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../lib/errors.js';
import { resolveOptions } from '../../lib/options.js';
import { mapOptions } from '../../lib/ioredis/options.js';

describe('slotwise/ioredis option mapping (unit)', () => {
  it('maps startup nodes in every ioredis form', () => {
    const m = mapOptions([7000, '7001', '10.0.0.1:7002', 'redis://10.0.0.2:7003', { host: 'h', port: 7004 }, { port: 7005 }]);
    assert.deepEqual(m.client.rootNodes, [
      { host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }, { host: '10.0.0.1', port: 7002 },
      { host: '10.0.0.2', port: 7003 }, { host: 'h', port: 7004 }, { host: '127.0.0.1', port: 7005 },
    ]);
    assert.deepEqual(m.ignored, []);
  });

  it('maps cluster and redisOptions onto slotwise options (and they resolve)', () => {
    const m = mapOptions([7000], {
      scaleReads: 'slave', slotsRefreshTimeout: 800, slotsRefreshInterval: 2000, enableOfflineQueue: false, maxRedirections: 5,
      retryDelayOnFailover: 200, retryDelayOnClusterDown: 300, retryDelayOnTryAgain: 50, enableAutoPipelining: true, enableReadyCheck: true,
      lazyConnect: true, shardedSubscribers: true,
      redisOptions: { username: 'u', password: 'p', tls: { servername: 'x' }, db: 0, connectTimeout: 1500, commandTimeout: 900, connectionName: 'svc', keyPrefix: 'app:', stringNumbers: false },
    });
    assert.deepEqual(m.ignored, []);
    assert.equal(m.keyPrefix, 'app:');
    assert.equal(m.lazyConnect, true);
    const r = resolveOptions(m.client);
    assert.equal(r.readFrom, 'replica');
    assert.equal(r.topologyQueryTimeoutMs, 800);
    assert.equal(r.topologyRefreshIntervalMs, 2000);
    assert.equal(r.maxWaitingCommands, 0);
    assert.equal(r.maxRedirections, 5);
    assert.equal(r.retryMaxDelayMs, 300, 'the longest ioredis delay caps the backoff');
    assert.equal(r.username, 'u');
    assert.equal(r.password, 'p');
    assert.deepEqual(r.tls, { servername: 'x' });
    assert.equal(r.connectTimeoutMs, 1500);
    assert.equal(r.commandTimeoutMs, 900);
    assert.equal(r.connectionName, 'svc');
  });

  it('scaleReads "all" picks among the healthy nodes of the shard; natMap functions get "host:port"', () => {
    const m = mapOptions([7000], { scaleReads: 'all', natMap: (key: string) => (key === '10.0.0.1:7000' ? { host: '1.2.3.4', port: 1 } : null) });
    const pick = m.client.readFrom as (c: readonly { address: string; role: 'master' | 'replica'; latencyMs: number | undefined; healthy: boolean }[], slot: number) => { address: string } | undefined;
    const candidates = [
      { address: 'a', role: 'master' as const, latencyMs: 1, healthy: false },
      { address: 'b', role: 'replica' as const, latencyMs: 1, healthy: true },
    ];
    for (let i = 0; i < 20; i++) assert.equal(pick(candidates, 0)?.address, 'b');
    const nat = m.client.natMap as (a: { host: string; port: number }) => unknown;
    assert.deepEqual(nat({ host: '10.0.0.1', port: 7000 }), { host: '1.2.3.4', port: 1 });
    assert.equal(nat({ host: '10.0.0.9', port: 7000 }), undefined);
  });

  it('lists every option it does not honour, with why', () => {
    const m = mapOptions([{ host: 'a', port: 1, password: 'x' } as never], {
      retryDelayOnMoved: 10, enableReadyCheck: false, enableAutoPipelining: false, scaleReads: () => undefined,
      someFutureOption: 1, redisOptions: { maxRetriesPerRequest: 3, reconnectOnError: () => true, stringNumbers: true },
    });
    assert.deepEqual(m.ignored.map((i) => i.option).sort(), [
      'enableAutoPipelining', 'enableReadyCheck', 'redisOptions.maxRetriesPerRequest', 'redisOptions.reconnectOnError', 'redisOptions.stringNumbers',
      'retryDelayOnMoved', 'scaleReads', 'someFutureOption', 'startupNodes[0].password',
    ]);
    for (const i of m.ignored) assert.ok(i.why.length > 10, `${i.option} says why`);
  });

  it('passes dnsLookup through as slotwise dnsLookup (same signature as ioredis\' DNSLookupFunction)', () => {
    const lookup = (name: string, cb: (e: null, a: string, f?: number) => void) => cb(null, name === 'seed' ? '127.0.0.1' : '10.0.0.1', 4);
    const m = mapOptions(['seed:7000'], { dnsLookup: lookup });
    assert.deepEqual(m.ignored, []);
    assert.equal(resolveOptions(m.client).dnsLookup, lookup);
  });

  it('rejects what cannot be honoured with InvalidArgumentError', () => {
    const bad: [unknown, unknown, RegExp][] = [
      [[], {}, /startupNodes/],
      [[7000], { redisOptions: { db: 1 } }, /redisOptions\.db.*only database 0/],
      [[7000], { scaleReads: 'nearest' }, /scaleReads/],
      [[7000], { keyPrefix: '' }, /keyPrefix/],
      [[7000], { retryDelayOnFailover: -1 }, /retryDelayOnFailover/],
      [[7000], { clusterRetryStrategy: 5 }, /clusterRetryStrategy/],
      [[7000], { dnsLookup: 'dns' }, /dnsLookup/],
      [['nohost'], {}, /startupNodes\[0\]/],
    ];
    for (const [nodes, options, message] of bad) {
      assert.throws(() => mapOptions(nodes as never, options as never), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message));
    }
  });
});
