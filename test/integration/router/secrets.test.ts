/**
 * Credentials never leak: with a wrong password, a wrong ACL user and a TLS
 * handshake failure (a TLS client pointed at a plaintext node), the password
 * appears in no error message, cause chain or error property, no client event
 * payload, no diagnostics_channel record and no line written to stdout/stderr
 * or the console. Private cluster with an ACL user.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { ClusterClient, SlotwiseError, type ClusterClientOptions } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';

const RIGHT = 'Right-Pass-7f3a9c';
const WRONG = 'Wrong-Pass-b81d2e';

/** Everything a client let out while `fn` ran, as text. */
async function observe(options: ClusterClientOptions, fn: (c: ClusterClient) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const record = (what: string, v: unknown) => seen.push(`${what}: ${inspect(v, { depth: 20, showHidden: true, getters: true })}`);
  const onCommand = (m: unknown) => record('slotwise:command', m);
  const onTopology = (m: unknown) => record('slotwise:topology', m);
  diagnostics.subscribe('slotwise:command', onCommand);
  diagnostics.subscribe('slotwise:topology', onTopology);
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const logs = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
  const capture = (stream: string) => (chunk: unknown, ...rest: unknown[]) => {
    record(stream, String(chunk));
    return (stream === 'stdout' ? writes.out : writes.err).call(stream === 'stdout' ? process.stdout : process.stderr, chunk as string, ...(rest as []));
  };
  process.stdout.write = capture('stdout') as typeof process.stdout.write;
  process.stderr.write = capture('stderr') as typeof process.stderr.write;
  for (const k of Object.keys(logs) as (keyof typeof logs)[]) console[k] = (...a: unknown[]) => record(`console.${k}`, a);
  const client = new ClusterClient(options);
  const emit = client.emit.bind(client) as (e: string, ...a: unknown[]) => boolean;
  (client as unknown as { emit: (e: string, ...a: unknown[]) => boolean }).emit = (event: string, ...args: unknown[]) => {
    record(`event ${event}`, args);
    return emit(event, ...args);
  };
  client.on('error', () => undefined);
  try {
    await fn(client);
  } finally {
    await client.disconnect();
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    Object.assign(console, logs);
    diagnostics.unsubscribe('slotwise:command', onCommand);
    diagnostics.unsubscribe('slotwise:topology', onTopology);
  }
  return seen;
}

/** Records the error (message, stack, causes, properties) and checks it is a typed one. */
async function failure(p: Promise<unknown>, seen: string[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SlotwiseError, `expected a SlotwiseError, got ${String(err)}`);
    seen.push(inspect(err, { depth: 20, showHidden: true, getters: true }), String(err.stack), JSON.stringify(err));
    for (let c: unknown = err.cause; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) seen.push(inspect(c, { depth: 20, showHidden: true }));
    return;
  }
  assert.fail('expected a rejection');
}

function assertNoSecret(seen: string[], secret: string): void {
  assert.ok(seen.length > 0, 'something was observed');
  const leaks = seen.filter((s) => s.includes(secret));
  assert.deepEqual(leaks, [], `the credential leaked in ${leaks.length} place(s)`);
}

describe('credentials never leak (integration)', function () {
  this.timeout(60_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).withUser('app', RIGHT).start();
  });
  after(async () => {
    await cluster?.stop();
  });

  const base = (): ClusterClientOptions => ({ rootNodes: cluster.getRootNodes(), connectTimeoutMs: 1000, commandTimeoutMs: 1500 });

  it('a wrong password: not in the error, its causes, events, diagnostics or logs', async () => {
    const errors: string[] = [];
    const seen = await observe({ ...base(), username: 'app', password: WRONG }, async (c) => {
      await failure(c.connect(), errors);
      await failure(c.get('k'), errors);
    });
    assert.match(errors[0]!, /WRONGPASS|NOAUTH|auth/i, 'the error still names the auth problem');
    assertNoSecret([...seen, ...errors], WRONG);
  });

  it('a wrong ACL user: neither password appears anywhere', async () => {
    const errors: string[] = [];
    const seen = await observe({ ...base(), username: 'intruder', password: RIGHT }, async (c) => {
      await failure(c.connect(), errors);
    });
    assertNoSecret([...seen, ...errors], RIGHT);
  });

  it('a failed TLS handshake (TLS client, plaintext node): the password is not in what surfaces', async () => {
    const errors: string[] = [];
    // The plaintext server never answers the ClientHello as TLS: the handshake is
    // reset or times out (connectTimeoutMs, below the topology query timeout so the node's error is kept).
    const seen = await observe({ ...base(), username: 'app', password: RIGHT, tls: { rejectUnauthorized: false }, connectTimeoutMs: 400, topologyQueryTimeoutMs: 2000 }, async (c) => {
      await failure(c.connect(), errors);
      await failure(c.set('k', 'v'), errors);
    });
    assert.match(errors[0]!, /TLS|SSL|secure|socket|wrong version|ECONNRESET|ETIMEDOUT|timed? ?out/i, 'the connection failed in the handshake');
    assertNoSecret([...seen, ...errors], RIGHT);
  });

  it('the right credentials work on the same cluster (the failures above were the credentials)', async () => {
    const c = new ClusterClient({ ...base(), username: 'app', password: RIGHT });
    await c.set('secrets:k', 'v');
    assert.equal(await c.get('secrets:k'), 'v');
    await c.quit();
  });
});
