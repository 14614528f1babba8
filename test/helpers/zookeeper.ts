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
  // In a beforeEach hook the test about to run is currentTest (ctx.test is the hook).
  const test = ctx.currentTest ?? ctx.test;
  if (test) test.title += ` — skipped: ${found.missing}`;
  ctx.skip();
}
