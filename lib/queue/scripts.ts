import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { Script } from '../scripts/script.js';

const NAMES = ['add', 'promote', 'ack', 'fail', 'reclaim', 'touch', 'release', 'retry-dead'] as const;
type Name = (typeof NAMES)[number];

/** The queue's Lua scripts (lib/queue/lua/*.lua; each file's header names its KEYS, ARGV and reply). */
export type QueueScripts = Readonly<Record<Name, Script>>;

const SOURCES = Object.fromEntries(NAMES.map((n) => [n, readFileSync(new URL(`./lua/${n}.lua`, import.meta.url), 'utf8')])) as Record<Name, string>;

export function defineQueueScripts(client: ClusterClient): QueueScripts {
  return Object.freeze(Object.fromEntries(NAMES.map((n) => [n, client.defineScript({ name: `queue:${n}`, lua: SOURCES[n] })])) as Record<Name, Script>);
}

/**
 * Runs a script on a dedicated connection (for a write that WAIT must cover
 * on the same connection), with the same NOSCRIPT → EVAL fallback as Script.run.
 */
export async function runOnConnection(conn: DedicatedConnection, script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await conn.send('evalsha', [script.sha, keys.length, ...keys, ...args]);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return conn.send('eval', [script.lua, keys.length, ...keys, ...args]);
  }
}
