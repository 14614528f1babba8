/**
 * Bad arguments at the API boundary (issue #10, the three cases a new user hit):
 * a poisoned argument costs one rejected command, never the process, another
 * caller's command or quit(); garbage keys are refused instead of silently
 * becoming one key; call() with a bad name is a typed error. Real shared cluster.
 */
import assert from 'node:assert/strict';
import { Command } from 'ioredis';
import { ClusterClient, InvalidArgumentError, slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

const poison = () => ({
  toString(): string {
    throw new Error('boom');
  },
});

/** Resolves true if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = p.then(() => true as const, () => true as const);
  const won = await Promise.race([done, late]);
  clearTimeout(timer);
  return won;
}

function isInvalid(command: string, position: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_SLOTWISE_INVALID_ARGUMENT');
    assert.equal(e.command, command);
    assert.match(e.message, position);
    return true;
  };
}

describe('bad arguments at the boundary (integration)', function () {
  this.timeout(30_000);
  let rootNodes: ReturnType<Awaited<ReturnType<typeof sharedCluster>>["getRootNodes"]>;
  let c: ClusterClient;
  const keys = async () => Number(await c.dbsize());

  before(async () => {
    rootNodes = (await sharedCluster()).getRootNodes();
    c = new ClusterClient({ rootNodes });
    await c.connect();
  });
  after(async () => {
    await c?.quit();
  });

  it('a throwing toString among 600 commands on its slot: only it fails, the process survives, quit() resolves', async () => {
    const client = new ClusterClient({ rootNodes });
    await client.connect();
    const ok: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) ok.push(client.set(`{t}:ok:${i}`, String(i)));
    const bad = client.set('{t}:k', poison() as unknown as string);
    for (let i = 300; i < 600; i++) ok.push(client.set(`{t}:ok:${i}`, String(i)));
    await assert.rejects(bad, isInvalid('SET', /SET argument 2.*plain object/));
    assert.deepEqual(await Promise.all(ok), new Array(600).fill('OK'));
    const back = await client.mget(Array.from({ length: 600 }, (_, i) => `{t}:ok:${i}`));
    assert.deepEqual(back, Array.from({ length: 600 }, (_, i) => String(i)));
    assert.equal(await client.exists('{t}:k'), 0, 'nothing was written for the poisoned command');
    assert.equal(await settlesWithin(client.quit(), 1000), true, 'quit() resolves within 1 s');
    assert.equal(client.status, 'closed');
  });

  it('issued alone, it rejects with InvalidArgumentError (no raw TypeError, no unhandled rejection) and quit() resolves', async () => {
    const client = new ClusterClient({ rootNodes });
    await client.connect();
    await assert.rejects(client.set('{t}:alone', poison() as unknown as string), InvalidArgumentError);
    assert.equal(await settlesWithin(client.quit(), 1000), true);
  });

  it('an argument that fails while encoding (past the boundary) rejects that command only, with or without ASKING', async () => {
    // NodeHandle.send takes a ready-made ioredis Command: the boundary check
    // does not see it, so this exercises the per-command encoding isolation.
    const node = c.nodes('master').find((n) => c.topology!.shardOf(slotOf('{t}'))!.master.address === n.address)!;
    for (const asking of [false, true]) {
      const around: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) around.push(c.set(`{t}:enc:${i}`, 'v'));
      const raw = node.submit(new Command('set', ['{t}:enc:bad', poison() as unknown as string]), asking);
      const fake = node.submit(new Command('set', ['{t}:enc:bad', Object.create(Buffer.prototype) as Buffer]), asking);
      for (let i = 300; i < 600; i++) around.push(c.set(`{t}:enc:${i}`, 'v'));
      await assert.rejects(raw, isInvalid('SET', /could not be encoded/));
      await assert.rejects(fake, isInvalid('SET', /could not be encoded/));
      assert.deepEqual(await Promise.all(around), new Array(600).fill('OK'));
      // ASKING was consumed: the next command on that connection is served normally.
      assert.equal(await c.get('{t}:enc:0'), 'v');
    }
    assert.equal(await c.exists('{t}:enc:bad'), 0);
  });

  it('the lean write path (NodeHandle.send): an argument that fails while encoding rejects that command only, with or without ASKING', async () => {
    // The executor's requests take this path; an Outgoing built here carries a
    // poisoned argument past the boundary check, into the node's batch.
    const node = c.nodes('master').find((n) => c.topology!.shardOf(slotOf('{t}'))!.master.address === n.address)!;
    const outgoing = (args: unknown[]) => {
      let settle!: (r: { ok: boolean; value: unknown }) => void;
      const done = new Promise<{ ok: boolean; value: unknown }>((r) => (settle = r));
      const out = {
        name: 'set', args, replyEncoding: 'utf8' as const, context: undefined,
        resolve: (raw: unknown) => settle({ ok: true, value: String(raw) }),
        reject: (err: Error) => settle({ ok: false, value: err }),
        replied: (value: unknown) => settle({ ok: true, value }),
      };
      return { out, done };
    };
    for (const asking of [false, true]) {
      const around: Promise<unknown>[] = [];
      for (let i = 0; i < 300; i++) around.push(c.set(`{t}:lean:${i}`, 'v'));
      const bad = outgoing(['{t}:lean:bad', poison()]);
      node.send(bad.out, asking);
      for (let i = 300; i < 600; i++) around.push(c.set(`{t}:lean:${i}`, 'v'));
      const r = await bad.done;
      assert.equal(r.ok, false);
      assert.ok(r.value instanceof InvalidArgumentError && /could not be encoded/.test(r.value.message), String(r.value));
      assert.deepEqual(await Promise.all(around), new Array(600).fill('OK'));
      // No ASKING was left behind: the next command on that connection is served normally.
      assert.equal(await c.get('{t}:lean:0'), 'v');
    }
    assert.equal(await c.exists('{t}:lean:bad'), 0);
  });

  it('garbage keys are refused instead of becoming one key; nothing is written', async () => {
    const before = await keys();
    const garbage: [unknown, RegExp][] = [
      [undefined, /got undefined/],
      [null, /got null/],
      [{}, /got a plain object/],
      [Symbol('s'), /got a symbol/],
      [() => 1, /got a function/],
      [Number.NaN, /got NaN/],
      [true, /got a boolean/],
    ];
    for (const [k, what] of garbage) {
      await assert.rejects(c.set(k as string, 'x'), isInvalid('SET', new RegExp(`SET argument 1: .*${what.source}`)));
      // A function in last place is an ioredis-style callback, not an argument.
      if (typeof k !== 'function') await assert.rejects(c.get(k as string), isInvalid('GET', /GET argument 1/));
    }
    await assert.rejects(c.set('k:undef', undefined as unknown as string), isInvalid('SET', /SET argument 2: .*undefined/));
    await assert.rejects(c.mget(undefined as unknown as string[]), isInvalid('MGET', /MGET argument 1/));
    await assert.rejects(c.mget(['a', undefined] as unknown as string[]), isInvalid('MGET', /MGET argument 1\[1\]/));
    await assert.rejects(c.mset({ a: '1', b: {} } as unknown as Record<string, string>), isInvalid('MSET', /MSET argument 1\.b: .*plain object/));
    await assert.rejects(c.hset('h:bad', { f: undefined } as unknown as Record<string, string>), isInvalid('HSET', /HSET argument 2\.f/));
    await assert.rejects(c.xadd('x:bad', '*', { f: 'v' } as unknown as string), isInvalid('XADD', /XADD argument 3: .*plain object/));
    await assert.rejects(c.set('k:u8', new Uint8Array([1, 2]) as unknown as Buffer), isInvalid('SET', /Uint8Array/));
    assert.equal(await keys(), before, 'no key was created by a rejected command');
  });

  it('accepts what ioredis sends faithfully: strings, Buffers, finite numbers, bigint, arrays one level, object and Map forms', async () => {
    assert.equal(await c.set(10 as unknown as string, 'ten'), 'OK');
    assert.equal(await c.get(10n as unknown as string), 'ten', 'a bigint key is its decimal digits');
    assert.equal(await c.set(Buffer.from('buf:k'), 1.5), 'OK');
    assert.equal(await c.get('buf:k'), '1.5');
    assert.equal(await c.incrby('n:big', 9007199254740993n as unknown as number), 9007199254740993);
    assert.equal(await c.mset({ 'o:{1}a': 1, 'o:{1}b': 'x' }), 'OK');
    assert.equal(await c.hset('h:ok', new Map<string, string | number>([['f', 1], ['g', 'y']])), 2);
    assert.deepEqual(await c.mget(['o:{1}a', 'o:{1}b']), ['1', 'x']);
    assert.deepEqual(await c.hgetall('h:ok'), { f: '1', g: 'y' });
    await c.del('10', 'buf:k', 'n:big', 'o:{1}a', 'o:{1}b', 'h:ok');
  });

  it('a numkeys argument far beyond the arguments given is answered by the server, not by an out-of-memory abort', async () => {
    // Found by the fuzz suite: the key-position table allocated one entry per announced key.
    for (const [name, args] of [['zunion', [2 ** 53 + 2, 'k']], ['eval', ['return 1', 1e9, 'k']], ['zunionstore', ['d', 5e8, 'k']]] as const) {
      await assert.rejects(c.call(name, ...args), (e: unknown) => (e as Error).name === 'RedisReplyError');
    }
  });

  it('call() with a name that is not a string is an InvalidArgumentError, not a raw TypeError', async () => {
    for (const name of [undefined, {}, Symbol('x'), null, 5, '']) {
      await assert.rejects(c.call(name as string, 'k'), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, String(e));
        assert.match(e.message, /command name/);
        return true;
      });
    }
    await assert.rejects(c.send('get', 'k' as unknown as string[]), InvalidArgumentError);
    await assert.rejects(c.send('get', ['k'], { timeoutMs: Number.NaN }), /timeoutMs/);
  });

  it('pipeline, multi and watch reject the bad entry only (pipeline) or the whole transaction before anything is sent', async () => {
    const before = await keys();
    const results = await c.pipeline().set('{p}:a', 'v').set('{p}:b', undefined as unknown as string).get('{p}:a').exec();
    assert.ok(results);
    assert.equal(results[0]![1], 'OK');
    assert.ok(results[1]![0] instanceof InvalidArgumentError);
    assert.equal(results[2]![1], 'v');
    await assert.rejects(c.multi().set('{m}:a', 'v').set('{m}:b', {} as unknown as string).exec(), isInvalid('SET', /SET argument 2/));
    assert.equal(await c.exists('{m}:a'), 0, 'a rejected transaction sent nothing');
    await assert.rejects(c.watch('{w}:a', async (tx) => tx.set('{w}:a', null as unknown as string)), isInvalid('SET', /SET argument 2: .*null/));
    await assert.rejects(c.watch([{} as unknown as string], async () => 1), isInvalid('WATCH', /WATCH argument 1/));
    await assert.rejects(c.withConnection('{w}:a', (conn) => conn.send('set', ['{w}:a', Symbol('s')])), InvalidArgumentError);
    assert.equal(await keys(), before + 1, 'only the pipeline\'s good SET wrote');
    await c.del('{p}:a');
  });
});
