/** Forked queue worker processes (test/fixtures/queue-limits-worker.ts) and what they report over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(root, 'test', 'fixtures', 'queue-limits-worker.ts');

/** One handler run, as a worker process reported it. */
export interface Run {
  readonly id: string;
  readonly partition: number;
  /** Priority level the job was added with. */
  readonly p: number;
  /** Handler start and end, ms (one clock for all processes on this machine). */
  readonly start: number;
  readonly end: number;
  /** 1 when a higher-priority job of the partition was still undelivered at this start. */
  readonly violation: number;
  readonly pid: number;
}

export class LimitWorkers {
  readonly runs: Run[] = [];
  readonly #children = new Set<ChildProcess>();
  readonly #stderr: string[] = [];

  constructor(readonly config: Record<string, unknown>) {}

  /** Forks one worker; resolves once its queue is processing. */
  async start(): Promise<ChildProcess> {
    const child = fork(FIXTURE, [JSON.stringify(this.config)], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.#children.add(child);
    child.stderr?.on('data', (d: Buffer) => this.#stderr.push(d.toString().slice(0, 500)));
    child.on('exit', () => this.#children.delete(child));
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { t: string } & Run) => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'ran') this.runs.push(m);
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${this.#stderr.join('')}`)));
    });
    return child;
  }

  /** Distinct job ids that ran. */
  ids(): Set<string> {
    return new Set(this.runs.map((r) => r.id));
  }

  async stopAll(): Promise<void> {
    const exits = [...this.#children].map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) r();
      else c.once('exit', () => r());
    }));
    for (const c of this.#children) c.kill('SIGKILL');
    await Promise.all(exits);
  }
}

/** Most intervals [start, end) overlapping at any moment; an end at the same instant as a start comes first. */
export function maxOverlap(runs: readonly { start: number; end: number }[]): number {
  const events = runs.flatMap((r) => [[r.start, 1], [r.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (cur += d));
  return max;
}

/** Most timestamps within any window of `windowMs` (t_j − t_i < windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! >= windowMs) i++;
    max = Math.max(max, j - i + 1);
  }
  return max;
}
