import assert from 'node:assert/strict';
import { formatNodesDocument, parseNodesDocument } from '../../../lib/core/nodes-document.js';
import { applyConfigDocument, thawOptions } from '../../../lib/config/live-options.js';
import { dnsSrvDiscovery } from '../../../lib/discovery/dns-srv.js';
import { DiscoveryError, InvalidArgumentError } from '../../../lib/errors.js';
import { resolveOptions, type ClusterClientOptions } from '../../../lib/options.js';
import { waitFor } from '../../helpers/wait.js';

const provider = { name: 'fixed', resolve: async () => [{ host: '127.0.0.1', port: 7000 }] };
const source = { name: 'cfg', watch: () => () => {} };

function invalid(fn: () => unknown, argument: RegExp, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.match(err.argument, argument);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('discovery: nodes document (unit)', () => {
  it('reads {"nodes": [...]} and bare arrays, "host:port" and {host, port}', () => {
    assert.deepEqual(parseNodesDocument('{"nodes":["10.0.0.1:6379",{"host":"redis-1","port":7000}],"updatedAt":"x"}'), [
      { host: '10.0.0.1', port: 6379 },
      { host: 'redis-1', port: 7000 },
    ]);
    assert.deepEqual(parseNodesDocument('["[::1]:7001"]'), [{ host: '::1', port: 7001 }]);
  });

  it('round-trips what the engine publishes (sorted, deduplicated)', () => {
    const text = formatNodesDocument([{ host: '127.0.0.1', port: 7001 }, { host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7000 }], new Date(0));
    assert.equal(text, '{"nodes":["127.0.0.1:7000","127.0.0.1:7001"],"updatedAt":"1970-01-01T00:00:00.000Z"}');
    assert.deepEqual(parseNodesDocument(text).map((n) => n.port), [7000, 7001]);
  });

  it('rejects bad documents naming what was wrong', () => {
    invalid(() => parseNodesDocument('not json', 'zk:/a'), /^zk:\/a$/, /expected JSON/);
    invalid(() => parseNodesDocument('{"nodes":[]}', 'zk:/a'), /zk:\/a: nodes/, /non-empty array/);
    invalid(() => parseNodesDocument('{"nodes":["ok:1","bad"]}', 'zk:/a'), /zk:\/a: nodes\[1\]/);
  });
});

describe('discovery: options (unit)', () => {
  it('a discovery provider replaces rootNodes; one of the two is required', () => {
    const o = resolveOptions({ discovery: provider });
    assert.deepEqual(o.rootNodes, []);
    assert.equal(o.discovery, provider);
    invalid(() => resolveOptions({} as ClusterClientOptions), /^rootNodes$/, /or a discovery provider/);
  });

  it('rejects a discovery or config that is not a provider', () => {
    invalid(() => resolveOptions({ rootNodes: ['a:1'], discovery: {} as never }), /^discovery$/, /resolve\(\)/);
    invalid(() => resolveOptions({ rootNodes: ['a:1'], config: 'zk' as never }), /^config$/, /watch\(\)/);
  });
});

describe('configuration centre: applying a document (unit)', () => {
  const input: ClusterClientOptions = { rootNodes: ['127.0.0.1:7000'], config: source, commandTimeoutMs: 4000, pool: { max: 8 } };
  const fresh = () => thawOptions(resolveOptions(input));

  it('applies live options in place and lists what changed', () => {
    const live = fresh();
    assert.deepEqual(applyConfigDocument(input, live, { readFrom: 'replica', pool: { max: 4 }, commandTimeoutMs: 4000 }, 'cfg'), ['readFrom', 'pool.max']);
    assert.equal(live.readFrom, 'replica');
    assert.equal(live.pool.max, 4);
  });

  it('a key dropped from the document returns to its constructor value', () => {
    const live = fresh();
    applyConfigDocument(input, live, { commandTimeoutMs: 100 }, 'cfg');
    assert.deepEqual(applyConfigDocument(input, live, {}, 'cfg'), ['commandTimeoutMs']);
    assert.equal(live.commandTimeoutMs, 4000);
  });

  it('rejects invalid values, unknown and non-live options naming the field; nothing is applied', () => {
    const live = fresh();
    const before = JSON.stringify(live);
    invalid(() => applyConfigDocument(input, live, { readFrom: 'replica', commandTimeoutMs: -1 }, 'cfg'), /config document cfg: commandTimeoutMs/, /integer/);
    invalid(() => applyConfigDocument(input, live, { tls: true }, 'cfg'), /"tls"/, /cannot change at runtime/);
    invalid(() => applyConfigDocument(input, live, { commandTimeout: 5 }, 'cfg'), /"commandTimeout"/);
    invalid(() => applyConfigDocument(input, live, { pool: 3 }, 'cfg'), /pool/, /expected an object/);
    invalid(() => applyConfigDocument(input, live, { pool: { maxx: 3 } }, 'cfg'), /pool\.maxx/);
    invalid(() => applyConfigDocument(input, live, { retryBaseDelayMs: 500, retryMaxDelayMs: 100 }, 'cfg'), /retryMaxDelayMs/);
    assert.equal(JSON.stringify(live), before);
  });
});

describe('discovery: DNS SRV provider (unit, injected resolver)', () => {
  it('returns targets lowest priority first, trailing dots removed', async () => {
    const p = dnsSrvDiscovery({
      name: '_redis._tcp.redis.default.svc.cluster.local',
      resolveSrv: async () => [
        { name: 'redis-1.redis.default.svc.cluster.local.', port: 6379, priority: 20, weight: 1 },
        { name: 'redis-0.redis.default.svc.cluster.local', port: 6379, priority: 10, weight: 1 },
      ],
    });
    assert.deepEqual(await p.resolve(), [
      { host: 'redis-0.redis.default.svc.cluster.local', port: 6379 },
      { host: 'redis-1.redis.default.svc.cluster.local', port: 6379 },
    ]);
  });

  it('a failed or empty lookup rejects with DiscoveryError; a bad name is rejected at once', async () => {
    const failing = dnsSrvDiscovery({ name: '_r._tcp.x', resolveSrv: async () => Promise.reject(Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' })) });
    await assert.rejects(failing.resolve(), (e: unknown) => e instanceof DiscoveryError && e.code === 'ERR_SLOTWISE_DISCOVERY' && /ENOTFOUND/.test(e.message));
    await assert.rejects(dnsSrvDiscovery({ name: '_r._tcp.x', resolveSrv: async () => [] }).resolve(), /no SRV records/);
    invalid(() => dnsSrvDiscovery({ name: '' }), /dnsSrvDiscovery name/);
    invalid(() => dnsSrvDiscovery({ name: '_r._tcp.x', refreshIntervalMs: -5 }), /refreshIntervalMs/);
  });

  it('watch() re-resolves and reports only changes', async () => {
    let records = [{ name: 'a', port: 1 }];
    let lookups = 0;
    const p = dnsSrvDiscovery({ name: '_r._tcp.x', refreshIntervalMs: 10, resolveSrv: async () => (lookups++, records) });
    const seen: string[] = [];
    const stop = p.watch!((nodes) => seen.push(nodes.map((n) => `${n.host}:${n.port}`).join(',')), (e) => assert.fail(e));
    try {
      await waitFor(() => lookups >= 3, { what: 'a few lookups' });
      records = [{ name: 'b', port: 2 }];
      await waitFor(() => seen.length === 2, { what: 'the change' });
      assert.deepEqual(seen, ['a:1', 'b:2']);
    } finally {
      stop();
    }
  });
});
