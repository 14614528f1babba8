/** The store's Lua scripts, loaded from the .lua files next to this module. */
import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
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
