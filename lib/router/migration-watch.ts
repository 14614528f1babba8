import { MaxRedirectionsError, RedisReplyError, SlotMigrationStuckError } from '../errors.js';

/** A slot whose redirects go round in a circle (the `migration:stuck` event). */
export interface MigrationStuckInfo {
  /** The hash slot (0–16383). */
  readonly slot: number;
  /** The node that sent the command away first (for ASK: the MIGRATING node). */
  readonly source: string;
  /** Where it sent it (for ASK: the node that should be IMPORTING, and answers MOVED back). */
  readonly target: string;
  /** `Date.now()` when the loop was first seen. */
  readonly since: number;
}

/** A stuck slot served a command again (the `migration:cleared` event). */
export interface MigrationClearedInfo extends MigrationStuckInfo {
  /** How long the episode lasted. */
  readonly durationMs: number;
}

export interface MigrationWatchEvents {
  stuck(info: MigrationStuckInfo): void;
  cleared(info: MigrationClearedInfo): void;
}

interface Hop {
  readonly from: string;
  readonly to: string;
  /** The request's attempt number that received this redirect. */
  readonly attempt: number;
}

/**
 * Tells a redirect chain that makes progress from one that cannot.
 *
 * A slot whose migration lost one side (its IMPORTING target failed over to
 * a replica that never heard of the migration, say) makes the MIGRATING
 * node answer `ASK B` and B answer `MOVED A`, for ever: no number of
 * immediate retries helps, only a repair (`redis-cli --cluster fix`) or the
 * resharding tool finishing its job. Following such a cycle tightly burns
 * the redirect budget in milliseconds; waiting (like for a failover) rides
 * it out. So the executor asks here about every redirect it receives:
 *
 * - `undefined`: follow it;
 * - a SlotMigrationStuckError: the chain came back to a node it already
 *   left (A→B→A) — wait with backoff, woken by topology changes, and retry;
 * - a MaxRedirectionsError: more than `maxChain` hops without a cycle —
 *   also wait and retry; only the deadline ends it.
 *
 * The returned error becomes the command's error if its deadline passes.
 * Per slot, one `stuck` event per episode and one `cleared` when a command
 * on that slot is answered again.
 */
export class MigrationWatch {
  readonly #maxChain: number;
  readonly #events: MigrationWatchEvents;
  readonly #now: () => number;
  /** The current chain of consecutive redirects of each redirected request. */
  readonly #chains = new WeakMap<object, Hop[]>();
  readonly #stuck = new Map<number, MigrationStuckInfo>();

  constructor(maxChain: number, events: MigrationWatchEvents, now: () => number = Date.now) {
    this.#maxChain = maxChain;
    this.#events = events;
    this.#now = now;
  }

  /** Slots in a stuck episode now (0 on the fast path: nothing to clear). */
  get open(): number {
    return this.#stuck.size;
  }

  /** Stuck slots now, for diagnostics. */
  stuckSlots(): MigrationStuckInfo[] {
    return [...this.#stuck.values()];
  }

  /**
   * A redirect `from` → `to` for `slot`, received by attempt number
   * `attempt` of `req`. A hop continues the request's chain only when it
   * came from the attempt right after the chain's last hop (the redirect was
   * followed, not waited out). `reply` is the redirect's text, the cause of
   * the error returned.
   */
  redirect(req: object, attempt: number, slot: number, from: string, to: string, reply: string, command: string, total: number): Error | undefined {
    let chain = this.#chains.get(req);
    const last = chain?.[chain.length - 1];
    if (chain === undefined || last === undefined || last.attempt !== attempt - 1) {
      chain = [];
      this.#chains.set(req, chain);
    }
    // A cycle through at least two nodes: `to` is a node this chain already left.
    const back = from === to ? -1 : chain.findIndex((h) => h.from === to);
    if (back !== -1) {
      this.#chains.delete(req);
      const first = chain[back]!;
      return this.#stuckError(slot, first.from, first.to, reply, command);
    }
    chain.push({ from, to, attempt });
    if (chain.length > this.#maxChain) {
      this.#chains.delete(req);
      return new MaxRedirectionsError(total, {
        cause: new RedisReplyError(reply, { address: from }),
        command,
        slot,
        address: from,
      });
    }
    return undefined;
  }

  /** A command on `slot` was answered: ends that slot's episode, if any. */
  served(slot: number): void {
    const info = this.#stuck.get(slot);
    if (info === undefined) return;
    this.#stuck.delete(slot);
    this.#events.cleared({ ...info, durationMs: this.#now() - info.since });
  }

  #stuckError(slot: number, source: string, target: string, reply: string, command: string): SlotMigrationStuckError {
    let info = this.#stuck.get(slot);
    // The same pair seen from the other end (B→A→B) is the same episode.
    const same = info !== undefined && ((info.source === source && info.target === target) || (info.source === target && info.target === source));
    if (!same) {
      if (info !== undefined) this.served(slot);
      info = { slot, source, target, since: this.#now() };
      this.#stuck.set(slot, info);
      this.#events.stuck(info);
    }
    return new SlotMigrationStuckError(slot, info!.source, info!.target, info!.since, {
      cause: new RedisReplyError(reply, { address: source }),
      command,
    });
  }
}
