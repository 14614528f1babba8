import {
  ClientClosedError,
  ConnectionError,
  MaxRedirectionsError,
  PoolError,
  RedisReplyError,
  TimeoutError,
  WatchConflictError,
} from '../errors.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { ExecResult } from '../pipeline/command-queue.js';
import type { Router } from '../router/router.js';
import { replyPrefix, type Classified } from '../core/classify.js';
import { backoffMs, Deadline } from '../core/retry.js';
import { execOn, type ExecOutcome, type Prepared } from './exec.js';

/** The retry budget of one transaction: one deadline, bounded redirects, jittered backoff. */
export class Attempts {
  readonly #router: Router;
  readonly #deadline: Deadline;
  #redirections = 0;
  #retries = 0;
  last: unknown;

  constructor(router: Router) {
    this.#router = router;
    this.#deadline = new Deadline(router.options.commandTimeoutMs);
  }

  /** Throws when the client closed or the deadline passed. */
  check(command: string, slot: number | undefined): void {
    if (this.#router.closed) throw new ClientClosedError();
    if (!this.#deadline.passed) return;
    const ms = this.#router.options.commandTimeoutMs;
    const why = this.last instanceof Error ? `; last error: ${this.last.message}` : '';
    throw new TimeoutError(`${command} did not complete within ${ms} ms${why}`, ms, {
      command, ...(slot === undefined ? {} : { slot }), ...(this.last === undefined ? {} : { cause: this.last }),
    });
  }

  /** Counts a MOVED/ASK; MaxRedirectionsError past `maxRedirections`. */
  redirected(command: string, slot: number | undefined, cause: unknown): void {
    if (++this.#redirections > this.#router.options.maxRedirections) {
      throw new MaxRedirectionsError(this.#redirections - 1, { command, cause, ...(slot === undefined ? {} : { slot }) });
    }
  }

  backoff(): Promise<void> {
    const o = this.#router.options;
    return this.#router.pause(this.#deadline.clamp(backoffMs(this.#retries++, o.retryBaseDelayMs, o.retryMaxDelayMs)));
  }
}

/** The error for an EXEC that failed for good (not a redirect or a wait). */
export function execFailure(out: Extract<ExecOutcome, { kind: 'failed' }>, c: Classified, node: NodeHandle, slot: number | undefined): Error {
  const ctx = { address: node.address, command: 'EXEC', ...(slot === undefined ? {} : { slot }) };
  if (c.kind === 'connection') {
    return c.maybeSent
      ? new ConnectionError(`Connection to ${node.address} lost after EXEC was sent: the transaction may or may not have been applied; it was not re-sent`, { ...ctx, maybeSent: true, cause: c.error })
      : c.error;
  }
  const exec = out.execError instanceof Error ? out.execError.message : String(out.execError);
  if (replyPrefix(out.execError) === 'EXECABORT') return new RedisReplyError(exec, { ...ctx, cause: c.kind === 'final' ? c.error : out.error });
  return c.kind === 'final' || c.kind === 'breaker' ? c.error : new RedisReplyError(exec, ctx);
}

/**
 * Runs an un-WATCHed MULTI/EXEC on a pooled connection to the slot's master.
 * Nothing is applied unless EXEC succeeds, so a transaction refused before
 * EXEC ran (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, a connection that provably
 * never carried it) is re-run on the right node — with ASKING for ASK —
 * within one deadline. An EXEC whose connection died after it may have been
 * written fails with ConnectionError{maybeSent: true} and is never re-sent.
 */
export async function runTransaction(router: Router, prepared: Prepared): Promise<ExecResult> {
  if (prepared.commands.length === 0) return [];
  await router.ready();
  // A transaction without keys runs on any master: the one of slot 0.
  const slot = prepared.slot ?? 0;
  const tries = new Attempts(router);
  let target: NodeHandle | undefined;
  let asking = false;
  for (;;) {
    tries.check('EXEC', slot);
    let node: NodeHandle;
    let conn;
    try {
      node = target ?? router.masterOf(slot);
      conn = await router.acquire(node);
    } catch (err) {
      if (err instanceof PoolError || err instanceof ClientClosedError) throw err;
      tries.last = err;
      target = undefined;
      await tries.backoff();
      continue;
    }
    const out = await execOn(conn, prepared, asking);
    target = undefined;
    asking = false;
    if (out.kind !== 'failed') {
      await conn.release();
      if (out.kind === 'ok') return out.results;
      throw new WatchConflictError('EXEC was aborted by a WATCH on this connection; nothing was applied', { address: node.address, slot, command: 'EXEC' });
    }
    const { c, target: to } = router.learn(out.error, node, slot);
    await (c.kind === 'connection' ? conn.destroy() : conn.release());
    switch (c.kind) {
      case 'moved':
      case 'ask':
        tries.redirected('EXEC', slot, out.error);
        target = to;
        asking = c.kind === 'ask';
        continue;
      case 'wait':
        tries.last = out.error;
        await tries.backoff();
        continue;
      case 'connection':
        if (c.maybeSent) throw execFailure(out, c, node, slot);
        tries.last = c.error;
        await tries.backoff();
        continue;
      default:
        throw execFailure(out, c, node, slot);
    }
  }
}
