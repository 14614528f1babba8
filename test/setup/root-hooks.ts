/**
 * Mocha root hooks for the whole run:
 * - a test during which a promise rejection went unhandled fails;
 * - after all tests, the shared cluster is stopped and every leak check runs;
 *   anything leaked fails the run, and leaked engine processes and clients are
 *   cleaned up too (sockets and timers held by other code are only reported).
 *
 * To add a leak check (clients, sockets, timers…), push a function returning
 * human-readable leak descriptions (empty = clean) onto `leakChecks`.
 */
import { createHook } from 'node:async_hooks';
import type { Context } from 'mocha';
import { killAllEngineProcesses, liveEngineContainers, liveEngineProcesses, liveEngineTempDirs } from '../../testcontainers/index.js';
import { stopSharedCluster } from '../helpers/cluster.js';
import { openClients } from '../../lib/internal/open-clients.js';

/** A leak check: describe what leaked, after cleaning it up. */
export type LeakCheck = () => Promise<string[]> | string[];

/** SLOTWISE_DEBUG_LEAKS=1 records where each live timer was created, to name a leak. */
const timerStacks = process.env.SLOTWISE_DEBUG_LEAKS ? new Map<number, string>() : undefined;
if (timerStacks) {
  createHook({
    init(id, type) {
      if (type === 'Timeout') timerStacks.set(id, new Error().stack!.split('\n').slice(3, 12).join('\n'));
    },
    destroy(id) {
      timerStacks.delete(id);
    },
  }).enable();
}

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

/** Containers of the engine whose cluster was never stopped (the watchdog removes them when the run ends). */
function containerLeaks(): string[] {
  return liveEngineContainers().map((id) => `engine container ${id.slice(0, 12)} never removed`);
}

/** ClusterClients never closed with quit()/disconnect(). */
async function clientLeaks(): Promise<string[]> {
  const open = openClients();
  const found = open.map((c) => `a ClusterClient (status ${c.status}) was never closed`);
  await Promise.all(open.map((c) => c.disconnect()));
  return found;
}

/**
 * Sockets, servers and timers still alive once every client and cluster is
 * closed. Sockets take a moment to finish closing, so wait for them (bounded).
 */
async function handleLeaks(): Promise<string[]> {
  const watched = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate']);
  // Mocha arms one timeout timer for the hook running this check: not a leak.
  const alive = () => {
    const all = process.getActiveResourcesInfo().filter((r) => watched.has(r));
    const own = all.indexOf('Timeout');
    if (own !== -1) all.splice(own, 1);
    return all;
  };
  const deadline = Date.now() + 3000;
  while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  const left = alive();
  if (left.length === 0) return [];
  if (timerStacks) for (const stack of timerStacks.values()) console.error(`leaked timer created at:${stack}`);
  const counts = new Map<string, number>();
  for (const r of left) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r} still active after every client and cluster was closed`);
}

export const leakChecks: LeakCheck[] = [engineLeaks, containerLeaks, clientLeaks, handleLeaks];

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
