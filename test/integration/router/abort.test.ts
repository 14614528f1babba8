/** ExecOptions.signal: giving up on a blocking command closes its dedicated connection. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { slotOf } from '../../../lib/index.js';
import { sharedClusterClient } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('abortable commands (integration)', function () {
  this.timeout(30_000);
  const client = sharedClusterClient();

  it('an aborted BLPOP rejects at once and no longer consumes what is pushed later', async () => {
    const key = `abort:${randomUUID()}`;
    const ac = new AbortController();
    const started = Date.now();
    const pending = client().send('blpop', [key, 30], { signal: ac.signal });
    const owner = client().nodes('master').find((n) => n.address === client().topology!.shardOf(slotOf(key))!.master.address)!;
    // Abort only once the BLPOP really blocks on the server (so the test covers closing a blocked connection).
    await waitFor(async () => String(await owner.call('client', 'list')).includes('cmd=blpop'), { what: 'the BLPOP to block on the server' });
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(Date.now() - started < 5000, 'did not wait for the 30 s block');
    // The server notices the closed connection asynchronously; then nothing blocks on the key any more.
    await waitFor(async () => !String(await owner.call('client', 'list')).includes('cmd=blpop'), { what: 'the server to drop the blocked client' });
    await client().rpush(key, 'kept');
    assert.deepEqual(await client().lrange(key, 0, -1), ['kept'], 'the abandoned BLPOP did not take it');
    assert.equal(owner.pool.stats.borrowed, 0, 'its connection is not borrowed any more');
  });

  it('an already aborted signal rejects without sending', async () => {
    const key = `abort:${randomUUID()}`;
    await assert.rejects(client().send('set', [key, '1'], { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(await client().exists(key), 0);
  });
});
