import { replyPrefix } from '../core/classify.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { Script } from './script.js';

/**
 * Runs `script` on one dedicated connection — for a write that a following
 * WAIT must cover, since WAIT only counts writes made on its own connection —
 * with the same NOSCRIPT → EVAL fallback as `Script.run`. Errors arrive as the
 * dedicated connection raises them (raw ioredis errors included).
 */
export async function runOnConnection(conn: DedicatedConnection, script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  const tail = [keys.length, ...keys, ...args];
  try {
    return await conn.send('evalsha', [script.sha, ...tail]);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return conn.send('eval', [script.lua, ...tail]);
  }
}

/** NOSCRIPT as RedisReplyError or as the raw ioredis ReplyError of a dedicated connection. */
function isNoScript(err: unknown): boolean {
  return replyPrefix(err) === 'NOSCRIPT';
}
