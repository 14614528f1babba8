/**
 * The soak's handle on its fault side (engine-worker.ts), which runs in a
 * worker thread with its own V8 heap: the cluster engine and the fault
 * stream are the harness, and must not count in the heap of the client
 * under test. Fault records arrive here as each fault ends; only counts are
 * kept in this thread (the full log is in a file).
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { HostPort } from '../../lib/index.js';
import type { EngineMemory, EngineMessage, EngineOp, EngineWorkerData } from './engine-worker.js';
import type { FaultKind, FaultRecord } from './faults.js';

export type { EngineMemory } from './engine-worker.js';

export class RemoteEngine {
  readonly #worker: Worker;
  readonly #logFile: string;
  readonly #counts = new Map<string, { ok: number; failed: number }>();
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #failed: Error | undefined;

  private constructor(worker: Worker, logFile: string, onRecord: (f: FaultRecord) => void) {
    this.#worker = worker;
    this.#logFile = logFile;
    worker.on('message', (m: EngineMessage) => {
      if ('record' in m) {
        const c = this.#counts.get(m.record.kind) ?? { ok: 0, failed: 0 };
        if (m.record.ok) c.ok++;
        else c.failed++;
        this.#counts.set(m.record.kind, c);
        onRecord(m.record);
        return;
      }
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if ('error' in m) w?.reject(new Error(`engine worker: ${m.error}`));
      else w?.resolve(m.result);
    });
    const fail = (err: Error) => {
      this.#failed = err;
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`engine worker exited (code ${code})`)));
  }

  /** Starts the worker, which starts the cluster; resolves when the cluster is healthy. */
  static async start(data: EngineWorkerData, onRecord: (f: FaultRecord) => void): Promise<RemoteEngine> {
    // tsx's loader hooks do not reach a worker started from a .ts file: load it through tsx's API.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./engine-worker.ts', import.meta.url).href;
    const worker = new Worker(`import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`, { eval: true, workerData: data });
    const engine = new RemoteEngine(worker, data.logFile, onRecord);
    await new Promise<unknown>((resolve, reject) => engine.#waiting.set(0, { resolve, reject }));
    return engine;
  }

  #call<T>(op: EngineOp, arg?: unknown): Promise<T> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, op, arg });
    });
  }

  rootNodes(): Promise<HostPort[]> {
    return this.#call('rootNodes');
  }

  startFaults(): Promise<void> {
    return this.#call('startFaults');
  }

  /** Stops the fault stream; waits for the fault running now. */
  stopFaults(): Promise<void> {
    return this.#call('stopFaults');
  }

  /** Waits for a healthy cluster (repairing open slots if needed); returns what it found. */
  heal(): Promise<string> {
    return this.#call('heal');
  }

  /** The worker's heap (raw, and after a full GC in the worker). */
  memory(): Promise<EngineMemory> {
    return this.#call('memory');
  }

  /** Writes a heap snapshot of the worker to `file`; resolves with its path. */
  heapSnapshot(file: string): Promise<string> {
    return this.#call('snapshot', file);
  }

  /** Stops the cluster and ends the worker. */
  async close(): Promise<void> {
    await this.#call('close');
    await new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
  }

  count(kind: FaultKind, okOnly = true): number {
    const c = this.#counts.get(kind);
    return c === undefined ? 0 : c.ok + (okOnly ? 0 : c.failed);
  }

  /** Every fault record, read back from the log file. */
  get log(): FaultRecord[] {
    return readFileSync(this.#logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FaultRecord);
  }
}
