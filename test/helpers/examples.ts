/**
 * Runs the programs in examples/ the way a user does (`node --import tsx
 * examples/…`, from the repository root so tsconfig's `paths` map 'slotwise'
 * to the sources), pointed at a test cluster through the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StartedRedisCluster } from '../../testcontainers/index.js';

/** The repository root: examples run from here. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running example program. */
export interface ExampleProcess {
  readonly proc: ChildProcess;
  /** Every stdout line so far, parsed as JSON when it is JSON (else `{ text }`). */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the exit code, or the signal name when killed by one. */
  readonly exited: Promise<number | string>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** `SLOTWISE_ROOT_NODES` for a cluster: `host:port,host:port`. */
export function rootNodesEnv(cluster: StartedRedisCluster): string {
  return cluster.getRootNodes().map((n) => `${n.host}:${n.port}`).join(',');
}

/** Starts `node --import tsx <file> ...args` in the repository root with `env` added. */
export function startExample(file: string, env: Record<string, string>, args: string[] = []): ExampleProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    try {
      const value: unknown = JSON.parse(text);
      lines.push(value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : { text });
    } catch {
      lines.push({ text });
    }
  });
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { proc, lines, exited, stderr: () => err };
}
