/**
 * Mocha root hooks for the whole run:
 * - a test during which a promise rejection went unhandled fails;
 * - after all tests, the shared cluster is stopped and every leak check runs;
 *   anything leaked is cleaned up AND fails the run.
 *
 * To add a leak check (clients, sockets, timers…), push a function returning
 * human-readable leak descriptions (empty = clean) onto `leakChecks`.
 */
import type { Context } from 'mocha';
import { killAllEngineProcesses, liveEngineProcesses, liveEngineTempDirs } from '../../testcontainers/index.js';
import { stopSharedCluster } from '../helpers/cluster.js';

/** A leak check: describe what leaked, after cleaning it up. */
export type LeakCheck = () => Promise<string[]> | string[];

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

/** redis-server processes and temp dirs of the engine that outlived their cluster. */
async function engineLeaks(): Promise<string[]> {
  const procs = liveEngineProcesses();
  const dirs = liveEngineTempDirs();
  if (procs.length === 0 && dirs.length === 0) return [];
  await killAllEngineProcesses();
  return [
    ...procs.map((p) => `redis-server pid ${p.pid} (port ${p.port}) still running`),
    ...dirs.map((d) => `engine temp dir ${d} not removed`),
  ];
}

export const leakChecks: LeakCheck[] = [engineLeaks];

function describeReason(r: unknown): string {
  return r instanceof Error ? (r.stack ?? r.message) : String(r);
}

export const mochaHooks = {
  afterEach(this: Context): void {
    if (unhandled.length === 0) return;
    const reasons = unhandled.splice(0);
    throw new Error(`Unhandled promise rejection(s) during "${this.currentTest?.fullTitle() ?? '?'}":\n${reasons.map(describeReason).join('\n')}`);
  },

  async afterAll(): Promise<void> {
    await stopSharedCluster();
    const leaks: string[] = [];
    for (const check of leakChecks) leaks.push(...(await check()));
    if (leaks.length > 0) throw new Error(`Leaked resources after the test run (cleaned up now):\n  ${leaks.join('\n  ')}`);
  },
};
