import { createHash } from 'node:crypto';
import { InvalidArgumentError, RedisReplyError } from '../errors.js';
import { describe } from '../core/describe.js';

/** What `client.defineScript()` takes. */
export interface ScriptDefinition {
  /** Name used in errors and diagnostics. */
  readonly name: string;
  /** The Lua source. */
  readonly lua: string;
  /**
   * Script only reads: runs as EVALSHA_RO/EVAL_RO, so `readFrom` may send it
   * to a replica and it is retried like any read. @default false
   */
  readonly readOnly?: boolean;
}

/** Runs a command through the cluster router (ClusterClient.send). */
export type ScriptRunner = (name: string, args: readonly unknown[], buffer: boolean, timeoutMs?: number) => Promise<unknown>;

/** Per-call settings of `Script.run()`. */
export interface ScriptRunOptions {
  /** Reply as Buffers instead of strings. @default false */
  readonly buffer?: boolean;
  /** Deadline for this call (both the EVALSHA and a NOSCRIPT fallback) instead of `commandTimeoutMs`. @default the client's `commandTimeoutMs` */
  readonly timeoutMs?: number;
}

/**
 * A Lua script bound to a client. `run(keys, args)` sends EVALSHA to the
 * owner of the keys' slot and falls back to EVAL once when that node does not
 * have the script cached yet (NOSCRIPT) — so each node loads it on first use,
 * and a failover to a replica with an empty script cache heals itself.
 * All keys must hash to one slot; that is checked before anything is sent.
 */
export class Script {
  /** {@inheritDoc ScriptDefinition.name} */
  readonly name: string;
  /** The Lua source. */
  readonly lua: string;
  /** SHA1 of the source, as the server computes it. */
  readonly sha: string;
  /** {@inheritDoc ScriptDefinition.readOnly} */
  readonly readOnly: boolean;
  readonly #send: ScriptRunner;

  /** Made by `client.defineScript()`. @internal */
  constructor(def: ScriptDefinition, send: ScriptRunner) {
    if (!def || typeof def.name !== 'string' || def.name.length === 0) {
      throw new InvalidArgumentError('script name', `expected a non-empty string, got ${describe(def?.name)}`);
    }
    if (typeof def.lua !== 'string' || def.lua.trim().length === 0) {
      throw new InvalidArgumentError(`script "${def.name}" lua`, 'expected non-empty Lua source');
    }
    this.name = def.name;
    this.lua = def.lua;
    this.sha = createHash('sha1').update(def.lua).digest('hex');
    this.readOnly = def.readOnly === true;
    this.#send = send;
  }

  /** Runs the script with `keys` (KEYS[]) and `args` (ARGV[]). */
  async run(keys: readonly (string | Buffer)[], args: readonly (string | Buffer | number)[] = [], opts: ScriptRunOptions = {}): Promise<unknown> {
    // One array, built once: its first slot is the SHA now and the source on a NOSCRIPT fallback.
    const argv: unknown[] = [this.sha, keys.length, ...keys, ...args];
    const buffer = opts.buffer === true;
    const started = Date.now();
    try {
      return await this.#send(this.readOnly ? 'evalsha_ro' : 'evalsha', argv, buffer, opts.timeoutMs);
    } catch (err) {
      if (!(err instanceof RedisReplyError) || err.prefix !== 'NOSCRIPT') throw err;
      // One budget for both round trips: the fallback gets what the EVALSHA left.
      const left = opts.timeoutMs === undefined ? undefined : Math.max(1, opts.timeoutMs - (Date.now() - started));
      const fallback = argv.slice();
      fallback[0] = this.lua;
      return this.#send(this.readOnly ? 'eval_ro' : 'eval', fallback, buffer, left);
    }
  }
}
