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

  it('a node that redirects to itself forever ends in MaxRedirectionsError', async () => {
    let port = 0;
    node = await startFakeNode(() => new Error(`ASK 1 127.0.0.1:${port}`));
    port = node.port;
    client = new ClusterClient({ rootNodes: [`127.0.0.1:${node.port}`], protocol: 2, maxRedirections: 5 });
    await client.connect();
    await assert.rejects(client.get('k'), (e: unknown) => e instanceof MaxRedirectionsError && e.redirections === 5 && /ASK 1/.test(String((e.cause as Error)?.message)));
    assert.equal(node.received.filter((c) => c[0] === 'GET').length, 6);
    assert.equal(node.received.filter((c) => c[0] === 'ASKING').length, 5, 'every retry after ASK was preceded by ASKING');
  });
});
