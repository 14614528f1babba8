import { createRequire } from 'node:module';
import { exists, getKeyIndexes, hasFlag } from '@ioredis/commands';
import { announcedKeysFit } from '../core/arguments.js';

/**
 * How the router treats a command, derived once per name from the command
 * table of `@ioredis/commands` and cached.
 */
export interface CommandInfo {
  /** Lower-case command name. */
  readonly name: string;
  /** Has the `readonly` flag: safe to retry anywhere and to serve from replicas. */
  readonly readOnly: boolean;
  /** Blocks the connection it runs on (BLPOP, XREAD … BLOCK, WAIT …). */
  readonly blocking: boolean;
  /**
   * Changes the state of the connection it runs on (transactions, pub/sub,
   * SELECT, …), so it must never run on the shared multiplexed connection.
   */
  readonly pinsConnection: boolean;
  /**
   * Its only key is the first argument, whatever follows (GET, SET, HGET, …):
   * the router hashes `args[0]` without asking the key-position table.
   */
  readonly firstKeyOnly: boolean;
}

/**
 * Commands that change the state of the connection they run on. On the shared
 * multiplexed connection they would leak that state into every other caller.
 */
const CONNECTION_STATE = new Set([
  'multi', 'exec', 'discard', 'watch', 'unwatch',
  'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe',
  'select', 'swapdb', 'monitor', 'reset', 'hello', 'auth', 'quit',
  'readonly', 'readwrite', 'asking', 'sync', 'psync', 'replconf',
]);

/**
 * Writes that leave the same state AND return the same reply when applied
 * twice, so a copy that may already have reached a dying server can be sent
 * again safely. `set` qualifies only without NX/XX/GET (checked per call).
 * Everything with the `readonly` flag is also retried. Documented in
 * docs/02-routing.md ("Retries after a connection loss").
 */
const IDEMPOTENT_WRITES = new Set([
  'set', 'setex', 'psetex', 'mset', 'hmset',
  'expireat', 'pexpireat', 'script', 'function',
]);

const cache = new Map<string, CommandInfo | null>();

/** Info for a lower-case command name, or undefined when Redis has no such command. */
export function commandInfo(name: string): CommandInfo | undefined {
  let info = cache.get(name);
  if (info === undefined) {
    info = exists(name)
      ? Object.freeze({
          name,
          readOnly: hasFlag(name, 'readonly'),
          blocking: hasFlag(name, 'blocking'),
          pinsConnection: CONNECTION_STATE.has(name),
          firstKeyOnly: firstKeyOnly(name),
        })
      : null;
    cache.set(name, info);
  }
  return info ?? undefined;
}

/**
 * Probes that would reveal a key anywhere but first: tokens the table's
 * special cases look for (STORE, BY, GET, STREAMS, KEYS…) and numbers a
 * numkeys argument could take.
 */
const KEY_PROBES: readonly (readonly string[])[] = [
  ['k'],
  ['k', '2', 'a', 'b', 'c'],
  ['k', '1', '2', '3', 'm', 'STORE', 'x', 'STOREDIST', 'y', 'BY', 'z', 'GET', 'w', 'STREAMS', 'v', 'u', 'KEYS', 't'],
];

/** The table says: exactly one key, at the first argument, and no subcommand or movable keys to change that. */
function firstKeyOnly(name: string): boolean {
  const entry = table[name];
  if (entry === undefined || entry.keyStart !== 1 || entry.keyStop !== 1 || entry.subcommands !== undefined) return false;
  if (entry.flags.includes('movablekeys')) return false;
  return KEY_PROBES.every((args) => {
    const idx = getKeyIndexes(name, args as string[]);
    return idx.length === 1 && idx[0] === 0;
  });
}

/** Positions of the key arguments of a command (flattened, stringified args). */
export function keyIndexes(name: string, args: readonly unknown[]): number[] {
  if (!announcedKeysFit(name, args)) return [];
  return getKeyIndexes(name, args as (string | Buffer | number)[]);
}

/**
 * True when sending the command twice is indistinguishable from sending it
 * once — the condition for retrying it after its bytes may have reached a
 * server whose connection then died.
 */
export function isIdempotent(info: CommandInfo, args: readonly unknown[]): boolean {
  if (info.readOnly) return true;
  if (!IDEMPOTENT_WRITES.has(info.name)) return false;
  if (info.name === 'set') {
    for (let i = 2; i < args.length; i++) {
      const a = args[i];
      const flag = typeof a === 'string' ? a.toUpperCase() : Buffer.isBuffer(a) ? a.toString().toUpperCase() : '';
      if (flag === 'NX' || flag === 'XX' || flag === 'GET') return false;
    }
  }
  if (info.name === 'script') return isSubcommand(args, 'LOAD');
  // FUNCTION LOAD without REPLACE fails the second time: only the REPLACE form repeats cleanly.
  if (info.name === 'function') return isSubcommand(args, 'LOAD') && args.some((a) => String(a).toUpperCase() === 'REPLACE');
  return true;
}

function isSubcommand(args: readonly unknown[], sub: string): boolean {
  return args.length > 0 && String(args[0]).toUpperCase() === sub;
}

/** One entry of the command table shipped by @ioredis/commands (Redis' COMMAND DOCS/INFO). */
interface TableEntry {
  readonly flags: readonly string[];
  readonly keyStart: number;
  readonly keyStop: number;
  readonly step: number;
  readonly requestPolicy?: string;
  readonly responsePolicy?: string;
  readonly subcommands?: Readonly<Record<string, TableEntry>>;
}

// The package exposes key positions and flags but not the policy tips; its
// table (no exports map) carries them.
const table = createRequire(import.meta.url)('@ioredis/commands/built/commands.json') as Readonly<Record<string, TableEntry>>;

/**
 * How Redis says a cluster client should run a command (the request_policy
 * and response_policy command tips) and where its keys are. See
 * https://redis.io/docs/latest/develop/reference/command-tips/.
 */
export interface CommandPolicy {
  /** `all_shards`, `all_nodes`, `multi_shard`, `special`, or undefined (route by key). */
  readonly request: string | undefined;
  /** `agg_sum`, `agg_min`, `agg_max`, `agg_logical_and`, `agg_logical_or`, `all_succeeded`, `one_succeeded`, `special`, or undefined. */
  readonly response: string | undefined;
  /** 1-based position of the first key (0: none / movable), last key (-1: the end) and step between keys. */
  readonly keyStart: number;
  readonly keyStop: number;
  readonly step: number;
  readonly movableKeys: boolean;
}

const policies = new Map<string, CommandPolicy | null>();

/**
 * The policy of a lower-case command, or of its subcommand when the command
 * has subcommands and `sub` names one (`script`, `load`). Undefined for an
 * unknown command.
 */
export function commandPolicy(name: string, sub?: unknown): CommandPolicy | undefined {
  const top = table[name];
  if (top === undefined) return undefined;
  const subName = top.subcommands && (typeof sub === 'string' || Buffer.isBuffer(sub)) ? sub.toString().toLowerCase() : undefined;
  const id = subName === undefined ? name : `${name}|${subName}`;
  let p = policies.get(id);
  if (p === undefined) {
    const e = subName === undefined ? top : top.subcommands![subName];
    p = e === undefined
      ? null
      : Object.freeze({
          request: e.requestPolicy,
          response: e.responsePolicy,
          keyStart: e.keyStart,
          keyStop: e.keyStop,
          step: e.step,
          movableKeys: e.flags.includes('movablekeys'),
        });
    policies.set(id, p);
  }
  return p ?? undefined;
}

/** Subcommand names of a lower-case command (empty when it has none). */
export function subcommandsOf(name: string): string[] {
  return Object.keys(table[name]?.subcommands ?? {});
}
