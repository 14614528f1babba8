/**
 * Protocol edge cases a real redis-server cannot be made to produce on
 * demand, against an in-process fake node (test/helpers/fake-node.ts).
 * Everything a real server can do is tested on real servers elsewhere.
 */
import assert from 'node:assert/strict';
import { ClusterClient, MaxRedirectionsError, ProtocolError } from '../../../lib/index.js';
import { startFakeNode, type FakeNode } from '../../helpers/fake-node.js';

describe('protocol edge cases (fake node)', function () {
  this.timeout(20_000);
  let node: FakeNode | undefined;
  let client: ClusterClient | undefined;

  afterEach(async () => {
    await client?.disconnect();
    await node?.close();
    client = node = undefined;
  });

  for (const bad of ['MOVED 99999 127.0.0.1:6379', 'MOVED 12abc 127.0.0.1:6379', 'ASK 5 127.0.0.1:notaport', 'MOVED 5 127.0.0.1:0']) {
    it(`rejects a malformed redirect instead of following it: "${bad}"`, async () => {
      node = await startFakeNode(() => new Error(bad));
      client = new ClusterClient({ rootNodes: [`127.0.0.1:${node.port}`], protocol: 2 });
      await client.connect();
      await assert.rejects(client.get('k'), (e: unknown) => e instanceof ProtocolError && e.message.includes(bad) && e.command === 'GET');
      assert.equal(node.received.filter((c) => c[0] === 'GET').length, 1, 'sent once, not followed anywhere');
    });
  }

  it('a node that redirects to itself forever ends in MaxRedirectionsError at the deadline, in bounded chains, not a tight loop', async () => {
    let port = 0;
    node = await startFakeNode(() => new Error(`ASK 1 127.0.0.1:${port}`));
    port = node.port;
    client = new ClusterClient({ rootNodes: [`127.0.0.1:${node.port}`], protocol: 2, maxRedirections: 5, commandTimeoutMs: 1000 });
    await client.connect();
    const started = Date.now();
    await assert.rejects(client.get('k'), (e: unknown) => e instanceof MaxRedirectionsError && e.redirections >= 6 && /ASK 1/.test(String((e.cause as Error)?.message)));
    assert.ok(Date.now() - started >= 900, 'measured in time: the chain is waited out until the deadline');
    const gets = node.received.filter((c) => c[0] === 'GET').length;
    const asking = node.received.filter((c) => c[0] === 'ASKING').length;
    // Chains of 6 sends (1 + 5 redirects followed), each followed by a backoff wait.
    assert.ok(gets >= 12, `more than one chain (${gets} GETs)`);
    assert.ok(gets <= 6 * 40, `a bounded number of chains in 1 s (${gets} GETs)`);
    assert.equal(asking, gets - Math.ceil(gets / 6), 'every send after an ASK was preceded by ASKING');
  });
});
