import { Command } from 'ioredis';
import { assertCommand } from '../core/arguments.js';
import { CrossSlotError, InvalidArgumentError, UnknownCommandError } from '../errors.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { ExecResult, QueuedCommand } from '../pipeline/command-queue.js';
import { CONNECTION_BOUND_WAITS } from '../router/blocking.js';
import { commandInfo, keyIndexes } from '../router/commands.js';
import { classify } from '../core/classify.js';
import { slotOf } from '../core/slots.js';

/** A queued command checked and normalized for MULTI/EXEC. */
export interface PreparedCommand {
  readonly name: string;
  readonly args: readonly (string | Buffer)[];
  readonly buffer: boolean;
}

/** A transaction ready to send: its commands and the one slot of all their keys. */
export interface Prepared {
  readonly commands: readonly PreparedCommand[];
  /** Undefined when no command has a key. */
  readonly slot: number | undefined;
}

/**
 * Checks a transaction before anything is sent: known commands, none that
 * changes connection state, and every key in one slot (CrossSlotError
 * naming the slots otherwise).
 */
export function prepare(queued: readonly QueuedCommand[]): Prepared {
  const slots: number[] = [];
  const commands = queued.map((q): PreparedCommand => {
    assertCommand(q.name, q.args);
    const info = commandInfo(q.name);
    if (info === undefined) throw new UnknownCommandError(q.name);
    const NAME = q.name.toUpperCase();
    if (info.pinsConnection || CONNECTION_BOUND_WAITS.has(q.name)) {
      throw new InvalidArgumentError(`command ${NAME}`, `${NAME} cannot be queued in a transaction (use client.watch(keys, fn) to WATCH)`, { command: NAME });
    }
    const args = new Command(q.name, q.args as (string | Buffer | number)[]).args as (string | Buffer)[];
    for (const i of keyIndexes(q.name, args)) {
      if (i >= args.length) continue;
      const s = slotOf(args[i]!);
      if (!slots.includes(s)) slots.push(s);
    }
    return { name: q.name, args, buffer: q.buffer };
  });
  if (slots.length > 1) {
    throw new CrossSlotError(
      `Transaction keys hash to ${slots.length} different slots (${slots.slice(0, 5).join(', ')}${slots.length > 5 ? ', …' : ''}); ` +
        'MULTI/EXEC runs on one node, so every key must share a slot: use a hash tag, e.g. "{order:7}:items" and "{order:7}:total"',
      slots,
      { command: 'MULTI' },
    );
  }
  return { commands, slot: slots[0] };
}

/** What one MULTI … EXEC round trip produced. */
export type ExecOutcome =
  | { readonly kind: 'ok'; readonly results: ExecResult }
  /** EXEC answered null: a WATCHed key changed. Nothing was applied. */
  | { readonly kind: 'aborted' }
  /**
   * EXEC failed. `error` is the decisive error: the first queue-time error
   * (MOVED, ASK, TRYAGAIN, a syntax error…) that made EXEC abort, else EXEC's own.
   */
  | { readonly kind: 'failed'; readonly error: unknown; readonly execError: unknown };

/**
 * Writes `[ASKING] MULTI cmd… EXEC` back to back on a dedicated connection
 * and collects the replies. Replies inside EXEC are decoded per command
 * (encoding, ioredis reply transformers such as HGETALL → object).
 */
export async function execOn(conn: DedicatedConnection, prepared: Prepared, asking: boolean): Promise<ExecOutcome> {
  const queued: Promise<unknown>[] = [];
  if (asking) queued.push(conn.send('asking', []));
  queued.push(conn.send('multi', []));
  for (const c of prepared.commands) queued.push(conn.send(c.name, c.args));
  const exec = conn.send('exec', [], true);
  const settled = await Promise.allSettled(queued);
  let reply: unknown;
  try {
    reply = await exec;
  } catch (execError) {
    const first = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    const byExec = classify(execError).kind === 'connection';
    return { kind: 'failed', error: byExec || first === undefined ? execError : first.reason, execError };
  }
  if (reply === null) return { kind: 'aborted' };
  const raw = reply as unknown[];
  const results: ExecResult = prepared.commands.map((c, i) => {
    const r = raw[i];
    if (r instanceof Error) return [toReplyError(r, conn.address, c.name), null];
    return [null, new Command(c.name, [], { replyEncoding: c.buffer ? null : 'utf8' }).transformReply(r as Buffer)];
  });
  return { kind: 'ok', results };
}

/** A reply error inside EXEC's array, as the typed error a single command would get. */
function toReplyError(err: Error, address: string, name: string): Error {
  const c = classify(err, { address, command: name.toUpperCase() });
  return c.kind === 'final' ? c.error : err;
}
