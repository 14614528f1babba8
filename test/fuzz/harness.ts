/**
 * What every fuzz run checks around its generated calls: a fresh client,
 * well-formed commands issued concurrently (all must succeed), no uncaught
 * exception or unhandled rejection, key count before/after, and quit()
 * within 1 s.
 */
import assert from 'node:assert/strict';
import { ClusterClient, type NodeAddress } from '../../lib/index.js';

/** Process-level failures seen while a fuzz suite runs. */
export class ProcessWatch {
  readonly uncaught: unknown[] = [];
  readonly unhandled: unknown[] = [];
  readonly #onUncaught = (err: unknown) => this.uncaught.push(err);
  readonly #onUnhandled = (reason: unknown) => this.unhandled.push(reason);

  start(): void {
    process.on('uncaughtExceptionMonitor', this.#onUncaught);
    process.on('unhandledRejection', this.#onUnhandled);
  }

  stop(): void {
    process.off('uncaughtExceptionMonitor', this.#onUncaught);
    process.off('unhandledRejection', this.#onUnhandled);
  }

  /** Lets pending rejection tracking run, then asserts nothing went wrong. */
  async assertClean(what: string): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(this.uncaught.map(String), [], `${what}: uncaught exception`);
    assert.deepEqual(this.unhandled.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))), [], `${what}: unhandled rejection`);
  }
}

/** Number of keys in the cluster (DBSIZE summed over masters). */
export async function keyCount(client: ClusterClient): Promise<number> {
  return Number(await client.dbsize());
}

/** Resolves true when `p` settles within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const won = await Promise.race([p.then(() => true as const, () => true as const), late]);
  clearTimeout(timer);
  return won;
}

export const OK_KEYS = 8;

/**
 * One fuzz run: a fresh connected client, `body` (the generated calls) with
 * OK_KEYS well-formed SET/GET pairs on existing keys issued alongside, then
 * the checks. `unchangedKeys`: the run must not change the key count.
 */
export async function fuzzRun(
  rootNodes: readonly NodeAddress[],
  watch: ProcessWatch,
  run: number,
  unchangedKeys: boolean,
  body: (client: ClusterClient) => Promise<void>,
): Promise<void> {
  const client = new ClusterClient({ rootNodes: [...rootNodes], commandTimeoutMs: 3000 });
  try {
    await client.connect();
    const before = unchangedKeys ? await keyCount(client) : 0;
    const good: Promise<unknown>[] = [];
    for (let i = 0; i < OK_KEYS; i++) good.push(client.set(`{ok}:${i}`, `r${run}`));
    const generated = body(client);
    for (let i = 0; i < OK_KEYS; i++) good.push(client.get(`{ok}:${i}`));
    await generated;
    const results = await Promise.allSettled(good);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : `rejected: ${String(r.reason)}`)),
      [...new Array(OK_KEYS).fill('OK'), ...new Array(OK_KEYS).fill(`r${run}`)],
      'well-formed commands issued alongside all succeed',
    );
    if (unchangedKeys) assert.equal(await keyCount(client), before, 'rejected calls wrote no key');
    await watch.assertClean(`run ${run}`);
  } finally {
    assert.equal(await settlesWithin(client.quit(), 1000), true, 'quit() resolves within 1 s');
  }
}
