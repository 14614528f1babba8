/**
 * The soak's fault side, run in a worker thread (see engine-remote.ts): the
 * cluster engine and the fault stream (faults.ts) live in their own V8 heap.
 * The soak judges the heap of the thread that runs the client and its load;
 * the engine's own state and the code of ~1,000 faults are the harness's,
 * measured separately (the `memory` request) and reported beside it.
 *
 * Protocol: requests `{ id, op }` answered by `{ id, result }` or
 * `{ id, error }`; fault records pushed as `{ record }` when each ends.
 */
import { writeHeapSnapshot } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { RedisClusterContainer } from '../../testcontainers/index.js';
import { FaultStream, type FaultRecord } from './faults.js';

export interface EngineWorkerData {
  /** Seed of the fault choices (mulberry32). */
  readonly seed: number;
  /** Where the fault log goes, one JSON record a line. */
  readonly logFile: string;
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly nodeTimeoutMs: number;
}

export type EngineOp = 'rootNodes' | 'startFaults' | 'stopFaults' | 'heal' | 'memory' | 'snapshot' | 'close';

/** The worker's own heap, as the soak samples its main thread's. */
export interface EngineMemory {
  readonly heapRawMb: number;
  /** After a forced full GC. */
  readonly heapUsedMb: number;
}

export type EngineMessage =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string }
  | { readonly record: FaultRecord };

const port = parentPort!;
const data = workerData as EngineWorkerData;
let seed = data.seed;
const random = () => {
  // mulberry32: reproducible fault choices for a given --seed
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const gc = (globalThis as { gc?: () => void }).gc;

const cluster = await new RedisClusterContainer()
  .withMasters(data.masters)
  .withReplicasPerMaster(data.replicasPerMaster)
  .withNodeTimeoutMs(data.nodeTimeoutMs)
  .withAppendOnly()
  .start();
let faults: FaultStream | undefined;

/** The cluster's state once the faults stopped, repaired the way an operator would when needed. */
async function heal(): Promise<string> {
  let endState = 'healthy';
  await cluster.waitForHealthy({ timeoutMs: 20_000 }).catch(async (err: Error) => {
    endState = `not healthy after the faults stopped (${err.message.slice(0, 300)})`;
    const fixed = await cluster.fixOpenSlots().catch((e: Error) => `fixOpenSlots failed: ${e.message}`);
    endState += `; fixOpenSlots: ${JSON.stringify(fixed).slice(0, 300)}`;
    await cluster.waitForHealthy({ timeoutMs: 30_000 }).catch((e: Error) => (endState += `; still not healthy: ${e.message.slice(0, 200)}`));
  });
  return endState;
}

const ops: Record<EngineOp, (arg?: unknown) => Promise<unknown>> = {
  rootNodes: async () => cluster.getRootNodes(),
  startFaults: async () => {
    faults = new FaultStream(cluster, { random, logFile: data.logFile, onRecord: (record) => port.postMessage({ record } satisfies EngineMessage) }).start();
  },
  stopFaults: async () => faults?.stop(),
  heal,
  memory: async (): Promise<EngineMemory> => {
    const heapRawMb = process.memoryUsage().heapUsed / 2 ** 20;
    gc?.();
    return { heapRawMb, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 };
  },
  /** A heap snapshot of this worker (after a full GC) at `arg`, a file path. */
  snapshot: async (arg) => {
    gc?.();
    return writeHeapSnapshot(String(arg));
  },
  close: async () => {
    await cluster.stop();
    setImmediate(() => port.close());
  },
};

port.on('message', (msg: { id: number; op: EngineOp; arg?: unknown }) => {
  ops[msg.op](msg.arg).then(
    (result) => port.postMessage({ id: msg.id, result } satisfies EngineMessage),
    (err: unknown) => port.postMessage({ id: msg.id, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies EngineMessage),
  );
});
port.postMessage({ id: 0, result: 'ready' } satisfies EngineMessage);
