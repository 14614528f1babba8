import type { ClusterClient } from '../cluster-client.js';
import { FencingTokenRejectedError, InvalidArgumentError, RedisReplyError } from '../errors.js';
import { slotOf } from '../core/slots.js';
import type { Script } from '../scripts/script.js';
import { describe } from './keys.js';
import { lockRuntime } from './runtime.js';

/**
 * The key holding the fence record of `key` (the highest token each lock has
 * written there). It must live in `key`'s slot so one script can check and
 * write both: a key with a hash tag shares it; a key without one becomes the
 * tag itself (`slotwise:fence:{key}` hashes exactly like `key`).
 */
export function fenceKeyOf(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const fence = close > open + 1 ? `slotwise:fence:${key.slice(open, close + 1)}:${key}` : `slotwise:fence:{${key}}`;
  if (slotOf(fence) !== slotOf(key)) {
    throw new InvalidArgumentError('key', `${JSON.stringify(key)} cannot be fenced: it has no usable hash tag and contains braces; give it a hash tag like "{resource}:rest"`);
  }
  return fence;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError('key', `expected a non-empty string, got ${describe(key)}`);
  return key;
}

function checkToken(token: unknown): number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token <= 0) {
    throw new InvalidArgumentError('token', `expected a fencing token (a positive integer from a lock grant), got ${describe(token)}`);
  }
  return token;
}

function checkLock(lock: unknown): string {
  if (typeof lock !== 'string' || lock.length === 0) throw new InvalidArgumentError('lock', `expected the lock's id (handle.fencedSet passes it), got ${describe(lock)}`);
  return lock;
}

/** Options of `fencedSet`. */
export interface FencedSetOptions {
  /** Expire the value after this many ms (SET … PX). @default no expiry */
  px?: number;
}

/** Arguments of {@link fencedSet}. */
export interface FencedSetArgs extends FencedSetOptions {
  /** The key to write (the fence record goes in its slot). */
  readonly key: string;
  /** The value to write. */
  readonly value: string | Buffer | number;
  /** The writer's fencing token (`handle.token`). */
  readonly token: number;
  /** Which lock's tokens guard this key (tokens of different locks are not comparable). */
  readonly lock: string;
}

/**
 * Sets `key` to `value` unless a grant of `lock` with a newer token has
 * already written it; then throws FencingTokenRejectedError and writes
 * nothing. Equal tokens pass (one holder writing several times).
 */
export async function fencedSet(client: ClusterClient, args: FencedSetArgs): Promise<void> {
  const key = checkKey(args?.key);
  const token = checkToken(args.token);
  const lock = checkLock(args.lock);
  const value = args.value;
  if (typeof value !== 'string' && typeof value !== 'number' && !Buffer.isBuffer(value)) {
    throw new InvalidArgumentError('value', `expected a string, number or Buffer, got ${describe(value)}`);
  }
  const px = args.px ?? 0;
  if (!Number.isInteger(px) || px < 0) throw new InvalidArgumentError('px', `expected a positive integer (ms), got ${describe(px)}`);
  const fence = fenceKeyOf(key);
  const reply = (await lockRuntime(client).scripts.fencedSet.run([key, fence], [lock, token, value as string, px])) as [number, number];
  if (Number(reply[0]) !== 1) {
    throw new FencingTokenRejectedError(`Write to "${key}" refused: token ${token} of lock "${lock}" is older than token ${reply[1]} that already wrote it`, {
      slot: slotOf(key), command: 'EVALSHA',
    });
  }
}

/** What `fenced()` takes. */
export interface FencedScriptDefinition {
  /** Name used in errors and diagnostics. */
  readonly name: string;
  /**
   * The guarded Lua body. It sees its own KEYS and ARGV (the fence key and
   * token are taken off the front) and runs only when the token is current.
   */
  readonly lua: string;
}

/** A Lua script that runs only for a current fencing token; made by {@link fenced}. */
export class FencedScript {
  /** The definition's name. */
  readonly name: string;
  readonly #script: Script;

  constructor(client: ClusterClient, def: FencedScriptDefinition) {
    if (!def || typeof def.name !== 'string' || def.name.length === 0) throw new InvalidArgumentError('name', `expected a non-empty string, got ${describe(def?.name)}`);
    if (typeof def.lua !== 'string' || def.lua.trim().length === 0) throw new InvalidArgumentError('lua', 'expected a non-empty Lua body');
    this.name = def.name;
    // The body runs in a function of its own, so it keeps using KEYS/ARGV and
    // `return` as in any script; the token is recorded only after it succeeded.
    const lua = [
      "local seen = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')",
      "if tonumber(ARGV[2]) < seen then return redis.error_reply('FENCED ' .. seen) end",
      'local k, a = {}, {}',
      'for i = 2, #KEYS do k[i - 1] = KEYS[i] end',
      'for i = 3, #ARGV do a[i - 2] = ARGV[i] end',
      'local result = (function(KEYS, ARGV)',
      def.lua,
      'end)(k, a)',
      "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])",
      'return result',
    ].join('\n');
    this.#script = client.defineScript({ name: `fenced:${def.name}`, lua });
  }

  /**
   * Runs the body with `keys` and `args` if `token` is at least the newest
   * token of `lock` seen on `keys[0]`; FencingTokenRejectedError otherwise.
   * All keys must share a slot (a hash tag).
   */
  async run(guard: { token: number; lock: string }, keys: readonly string[], args: readonly (string | number | Buffer)[] = []): Promise<unknown> {
    const token = checkToken(guard?.token);
    const lock = checkLock(guard.lock);
    if (!Array.isArray(keys) || keys.length === 0) throw new InvalidArgumentError('keys', 'expected at least one key: the first one is the fenced resource');
    const first = checkKey(keys[0]);
    try {
      return await this.#script.run([fenceKeyOf(first), ...keys], [lock, token, ...args]);
    } catch (err) {
      if (err instanceof RedisReplyError && err.prefix === 'FENCED') {
        throw new FencingTokenRejectedError(`${this.name} on "${first}" refused: token ${token} of lock "${lock}" is older than token ${err.reply.split(' ')[1]} that already wrote it`, {
          cause: err, slot: slotOf(first), command: 'EVALSHA',
        });
      }
      throw err;
    }
  }
}

/** Wraps a Lua body so it runs only for the newest fencing token (see FencedScript). */
export function fenced(client: ClusterClient, def: FencedScriptDefinition): FencedScript {
  return new FencedScript(client, def);
}
