import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import type { Script } from '../scripts/script.js';

const NAMES = ['add', 'promote', 'ack', 'fail', 'reclaim', 'touch', 'release', 'retry-dead', 'progress', 'fetch', 'limits', 'clean'] as const;
type Name = (typeof NAMES)[number];

/** The queue's Lua scripts (lib/queue/lua/*.lua; each file's header names its KEYS, ARGV and reply). */
export type QueueScripts = Readonly<Record<Name, Script>>;

const SOURCES = Object.fromEntries(NAMES.map((n) => [n, readFileSync(new URL(`./lua/${n}.lua`, import.meta.url), 'utf8')])) as Record<Name, string>;

export function defineQueueScripts(client: ClusterClient): QueueScripts {
  return Object.freeze(Object.fromEntries(NAMES.map((n) => [n, client.defineScript({ name: `queue:${n}`, lua: SOURCES[n] })])) as Record<Name, Script>);
}
