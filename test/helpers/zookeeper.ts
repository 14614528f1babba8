/**
 * ZooKeeper in tests: a real server from the Debian `zookeeper` package
 * (testcontainers/zookeeper-server.ts). Where it is not installed the test is
 * skipped and its title says why (CI installs it: see .ci/run).
 */
import type { Context } from 'mocha';
import { findZooKeeper } from '../../testcontainers/index.js';

export function requireZooKeeper(ctx: Context): void {
  const found = findZooKeeper();
  if (!('missing' in found)) return;
  if (ctx.test) ctx.test.title += ` — skipped: ${found.missing}`;
  ctx.skip();
}
