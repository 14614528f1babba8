/**
 * Finding a usable `redis-server` (≥ 7). The engine never ships or downloads
 * Redis: it runs the one installed on the machine, so a missing binary must
 * produce a message that says exactly how to get one.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RedisServerNotFoundError } from '../lib/errors.js';

/** The oldest major version the engine supports (CLUSTER SHARDS, ADDSLOTSRANGE). */
export const MIN_REDIS_MAJOR = 7;

/** A `redis-server` binary that was found and checked. */
export interface RedisServerBinary {
  /** Absolute path of the binary. */
  readonly path: string;
  /** Version reported by `redis-server --version`, e.g. `7.0.15`. */
  readonly version: string;
  /** Major version number, ≥ {@link MIN_REDIS_MAJOR}. */
  readonly major: number;
  /** Where the path came from. */
  readonly source: 'option' | 'env' | 'path' | 'default-location';
}

/** How to install Redis, appended to every "not found" message. */
export const INSTALL_HINT = [
  `slotwise needs redis-server >= ${MIN_REDIS_MAJOR} to run a real Redis Cluster. Install it, then re-run:`,
  '  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y redis-server',
  '  macOS:         brew install redis',
  `  or point REDIS_SERVER_BIN (or RedisClusterContainer.withRedisServerBin()) at a redis-server binary (>= ${MIN_REDIS_MAJOR}).`,
].join('\n');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve(undefined);
      resolve(/v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1]);
    });
  });
}

async function check(path: string, source: RedisServerBinary['source']): Promise<RedisServerBinary | string> {
  if (!isExecutable(path)) return `${path} does not exist or is not executable`;
  const version = await versionOf(path);
  if (version === undefined) return `${path} --version did not report a Redis version`;
  const major = Number(version.split('.')[0]);
  if (major < MIN_REDIS_MAJOR) return `${path} is Redis ${version}, older than ${MIN_REDIS_MAJOR}`;
  return { path, version, major, source };
}

/**
 * Resolves the `redis-server` to run, in this order: `explicit` (from
 * `withRedisServerBin()`), the `REDIS_SERVER_BIN` environment variable, `PATH`,
 * then `/usr/bin` and `/usr/local/bin`. An explicit path or `REDIS_SERVER_BIN`
 * that does not work is an error (no silent fallback to another binary).
 *
 * @throws RedisServerNotFoundError with installation instructions.
 */
export async function findRedisServer(explicit?: string): Promise<RedisServerBinary> {
  const env = process.env.REDIS_SERVER_BIN;
  if (explicit !== undefined || (env !== undefined && env !== '')) {
    const [path, source, label] =
      explicit !== undefined
        ? [explicit, 'option' as const, 'withRedisServerBin()']
        : [env as string, 'env' as const, 'REDIS_SERVER_BIN'];
    const found = await check(path, source);
    if (typeof found !== 'string') return found;
    throw new RedisServerNotFoundError(`redis-server from ${label} is not usable: ${found}.\n${INSTALL_HINT}`);
  }
  const candidates: Array<[string, RedisServerBinary['source']]> = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '') candidates.push([join(dir, 'redis-server'), 'path']);
  }
  for (const dir of ['/usr/bin', '/usr/local/bin', '/opt/homebrew/bin']) {
    candidates.push([join(dir, 'redis-server'), 'default-location']);
  }
  const rejected: string[] = [];
  for (const [path, source] of candidates) {
    if (!isExecutable(path)) continue;
    const found = await check(path, source);
    if (typeof found !== 'string') return found;
    rejected.push(found);
  }
  const why = rejected.length > 0 ? rejected.join('; ') : 'no redis-server on PATH, /usr/bin or /usr/local/bin';
  throw new RedisServerNotFoundError(`No usable redis-server found (${why}).\n${INSTALL_HINT}`);
}
