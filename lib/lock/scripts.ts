import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import type { Script } from '../scripts/script.js';

const lua = (file: string) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');

/** The Lua sources of lib/lock, read once. */
export const LOCK_LUA = {
  mutexAcquire: lua('mutex-acquire.lua'),
  release: lua('release.lua'),
  extend: lua('extend.lua'),
  leaveQueue: lua('leave-queue.lua'),
  semaphoreAcquire: lua('semaphore-acquire.lua'),
  rwAcquire: lua('rw-acquire.lua'),
  latchCountDown: lua('latch-count-down.lua'),
  fencedSet: lua('fenced-set.lua'),
  deleteIfOwner: lua('delete-if-owner.lua'),
} as const;

export type LockScripts = { readonly [K in keyof typeof LOCK_LUA]: Script };

/** The scripts bound to one client. */
export function defineLockScripts(client: ClusterClient): LockScripts {
  const out = {} as Record<keyof typeof LOCK_LUA, Script>;
  for (const [name, source] of Object.entries(LOCK_LUA) as [keyof typeof LOCK_LUA, string][]) {
    out[name] = client.defineScript({ name: `slotwise-lock-${name}`, lua: source });
  }
  return out;
}

/** A grant script's reply: `{1, token, grantedAtUs}` or `{0, remainingMs, extra}`. */
export interface GrantReply {
  readonly granted: boolean;
  readonly token: number;
  readonly grantedAtUs: number;
  /** When refused: ms until it is worth trying again (the holder's remaining lease; 0 = unknown/now). */
  readonly remainingMs: number;
  readonly extra: number;
}

export function parseGrant(reply: unknown): GrantReply {
  const r = reply as [number, number, number];
  if (Number(r[0]) === 1) return { granted: true, token: Number(r[1]), grantedAtUs: Number(r[2]), remainingMs: 0, extra: 0 };
  return { granted: false, token: 0, grantedAtUs: 0, remainingMs: Math.max(0, Number(r[1])), extra: Number(r[2]) };
}
