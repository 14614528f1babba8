/**
 * examples/express-sessions on the shared cluster: a browser logs in, its
 * session counts visits, logout ends it for good (the old cookie is
 * anonymous again), and "log out everywhere" ends every session of the user.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ClusterClient } from '../../../lib/index.js';
import { createApp, listen } from '../../../examples/express-sessions/app.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { Browser } from '../../helpers/express-app.js';

describe('examples/express-sessions (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  let server: Server;
  let base: string;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
    server = await listen(createApp(client), 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await client?.quit();
  });

  it('login, visits counted, logout; the old cookie no longer works', async () => {
    const browser = new Browser(base);
    assert.equal((await browser.request('GET', '/me')).status, 401);
    const user = `u-${randomUUID().slice(0, 8)}`;
    assert.equal((await browser.request('POST', '/login', { user })).status, 200);
    const oldCookie = browser.cookie;
    assert.deepEqual((await browser.request('GET', '/me')).body, { user, visits: 1 });
    assert.deepEqual((await browser.request('GET', '/me')).body, { user, visits: 2 });
    assert.equal((await browser.request('POST', '/logout')).status, 200);
    const replay = new Browser(base);
    replay.cookie = oldCookie;
    assert.equal((await replay.request('GET', '/me')).status, 401, 'a logged-out session stays logged out');
  });

  it('bad input is refused before any session is made', async () => {
    const browser = new Browser(base);
    assert.equal((await browser.request('POST', '/login', { user: 'no spaces allowed' })).status, 400);
    assert.equal(browser.cookie, undefined);
  });

  it('log out everywhere ends every session of the user', async () => {
    const user = `u-${randomUUID().slice(0, 8)}`;
    const laptop = new Browser(base);
    const phone = new Browser(base);
    await laptop.request('POST', '/login', { user });
    await phone.request('POST', '/login', { user });
    assert.deepEqual((await laptop.request('POST', '/logout-everywhere')).body, { destroyed: 2 });
    assert.equal((await phone.request('GET', '/me')).status, 401);
  });
});
