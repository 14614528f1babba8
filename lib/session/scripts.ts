/** The store's Lua scripts, loaded from the .lua files next to this module. */
import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import { RedisReplyError } from '../errors.js';
import type { Script } from '../scripts/script.js';

function lua(name: string): string {
  return readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
}

const SOURCES = {
  write: { file: 'write', readOnly: false },
  touch: { file: 'touch', readOnly: false },
  destroy: { file: 'destroy', readOnly: false },
  clone: { file: 'clone', readOnly: false },
  read: { file: 'read', readOnly: true },
  state: { file: 'state', readOnly: true },
  indexDue: { file: 'index-due', readOnly: true },
  indexPrune: { file: 'index-prune', readOnly: false },
} as const;

export type SessionScripts = { readonly [K in keyof typeof SOURCES]: Script };

let cache: Record<string, string> | undefined;

/** Defines every session script on `client` (sources are read from disk once per process). */
export function sessionScripts(client: ClusterClient): SessionScripts {
  cache ??= Object.fromEntries(Object.values(SOURCES).map((s) => [s.file, lua(s.file)]));
  const out: Record<string, Script> = {};
  for (const [name, s] of Object.entries(SOURCES)) {
    out[name] = client.defineScript({ name: `session:${s.file}`, lua: cache[s.file]!, readOnly: s.readOnly });
  }
  return out as SessionScripts;
}

/**
 * Runs `script` with an argument list the caller built whole —
 * `[sha, numkeys, ...keys, ...args]` with `argv[0]` = `script.sha` — by
 * EVALSHA on the keys' slot owner, and EVAL once on NOSCRIPT, like
 * `Script.run()`. The hot paths of the store use it: `Script.run()` copies
 * keys and arguments into a new array (and the per-call options into new
 * objects) on every call, garbage that a busy session store pays for in GC.
 * `argv` is the caller's to give away: the NOSCRIPT fallback reuses it.
 */
export function runScript(client: ClusterClient, script: Script, argv: unknown[]): Promise<unknown> {
  return client.send(script.readOnly ? 'evalsha_ro' : 'evalsha', argv).catch((err: unknown) => {
    if (!(err instanceof RedisReplyError) || err.prefix !== 'NOSCRIPT') throw err;
    argv[0] = script.lua;
    return client.send(script.readOnly ? 'eval_ro' : 'eval', argv);
  });
}
