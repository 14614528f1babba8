/** Child processes running TypeScript fixtures with tsx, speaking JSON lines on stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  readonly proc: ChildProcess;
  /** Every JSON line printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line whose `event` is `event`. */
  next(event: string): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the child exited. */
  readonly exited: Promise<number | string>;
  stderr(): string;
}

/** Starts `node --import tsx <fixture> <json job>`. */
export function spawnFixture(fixture: string, job: unknown): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiting: { event: string; resolve: (l: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of waiting.filter((x) => x.event === line.event)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(line);
    }
  });
  void exited.then((code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`child exited (${code}) before "${w.event}":\n${err.slice(-2000)}`));
  });
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    next(event) {
      const seen = lines.find((l) => l.event === event);
      if (seen) return Promise.resolve(seen);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.reject(new Error(`child already exited before "${event}":\n${err.slice(-2000)}`));
      return new Promise((resolve, reject) => waiting.push({ event, resolve, reject }));
    },
  };
}
