import { performance } from 'node:perf_hooks';
import { CircuitOpenError, MaxRedirectionsError, SlotMigrationStuckError, TimeoutError } from '../errors.js';
import type { NodeHandle } from '../node/node-handle.js';
import { convertReply, type Outgoing, type ReplyContext } from '../node/outgoing.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { BlockSpec } from './blocking.js';
import type { CommandInfo } from './commands.js';
import type { SlotSequencer } from './sequencer.js';

/** Keyless commands: any master. */
export const ANY_SLOT = -1;

/** The sequencer of one group of requests (a pipeline). */
export type RequestSequencer = SlotSequencer<Request>;

/** A redirect followed by the executor (the `redirect` event). */
export interface RedirectInfo {
  /** `moved`: the slot has a new owner (the map is patched); `ask`: one command went to the importing node during a migration. */
  readonly kind: 'moved' | 'ask';
  /** The slot the command's keys hash to. */
  readonly slot: number;
  /** `host:port` that answered with the redirect. */
  readonly from: string;
  /** `host:port` it pointed to. */
  readonly to: string;
  /** The command's name. */
  readonly command: string;
}

/** A settled command (the `slotwise:command` diagnostics channel). */
export interface CommandDiagnostics {
  /** The command's name. */
  readonly command: string;
  /** The slot it was routed by (-1 for keyless commands). */
  readonly slot: number;
  /** `host:port` of the node that answered last, if any did. */
  readonly address: string | undefined;
  /** How many times it was sent (retries included). */
  readonly attempts: number;
  /** MOVED/ASK redirections it followed. */
  readonly redirections: number;
  /** From the call to the settled reply. */
  readonly durationMs: number;
  /** The error it failed with, if it did. */
  readonly error?: Error;
}

/** Per-call settings. */
export interface ExecOptions {
  /** Reply as Buffers instead of strings. @default false */
  readonly buffer?: boolean;
  /** Deadline for this command instead of `commandTimeoutMs`. @default the client's `commandTimeoutMs` */
  readonly timeoutMs?: number;
  /**
   * Gives up on the command when aborted: the promise rejects with the
   * signal's reason at once, and a blocking command's dedicated connection is
   * closed (so the server stops blocking). A command already written may
   * still run on the server.
   * @default undefined
   */
  readonly signal?: AbortSignal;
}

/**
 * How a request is routed beyond its keys (internal: fan-out, scans and
 * pipelines use it; not part of the public `send()` options).
 */
export interface RouteOptions {
  /**
   * Run on this node only (a fan-out part, a SCAN step): no slot routing, and
   * a MOVED/ASK is handed to the caller instead of followed.
   */
  readonly node?: NodeHandle;
  /** Keep the caller's per-slot order with the other requests of this group. */
  readonly sequencer?: SlotSequencer<Request>;
  /**
   * @internal The slot of the command's keys when the splitter already hashed
   * every one of them (a single-slot MGET/DEL/…): the executor trusts it
   * instead of hashing them again.
   */
  readonly slot?: number;
}

/** Static facts about a request, fixed when it is accepted. */
export interface RequestInit {
  readonly info: CommandInfo;
  /** Flat arguments (strings and Buffers, see `flatArgs`). */
  readonly args: unknown[];
  readonly slot: number;
  readonly encoding: 'utf8' | null;
  /** Absolute deadline (Infinity for a command blocking forever). */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly traced: boolean;
  /** Set for a blocking call: it runs on a pooled dedicated connection. */
  readonly block: BlockSpec | undefined;
  /** When a blocking call stops blocking (absolute ms; Infinity = forever). */
  readonly blockUntil: number;
  /** The only node this request may run on. */
  readonly pinned?: NodeHandle | undefined;
  /** The group sequencer keeping this request's per-slot order. */
  readonly seq?: SlotSequencer<Request> | undefined;
}

/** Where a request's replies go: the executor's handlers of the current attempt. */
export interface ReplySink {
  reply(req: Request, value: unknown): void;
  error(req: Request, err: Error): void;
}

/**
 * One caller-visible command across all its attempts: the mutable state of
 * the retry loop plus the caller's promise. It is also what the node writes
 * (`Outgoing`): the connection's reply dispatcher answers this object
 * directly, so an attempt allocates no ioredis Command and no promise.
 * An attempt starts only after the previous one was answered, so at most one
 * is on a connection at a time.
 */
export class Request implements Outgoing {
  settled = false;
  attempts = 0;
  redirections = 0;
  retries = 0;
  /** Explicit next target (after MOVED/ASK), bypassing the map. */
  target: NodeHandle | undefined;
  asking = false;
  /** Node of the current (or last) attempt. */
  node: NodeHandle | undefined;
  inFlight = false;
  sampleStart = 0;
  /** When the current attempt was written (for blaming a node on expiry). */
  sentAt = 0;
  /** Parked: a backoff timer, null while waiting for the first topology. */
  parked: NodeJS.Timeout | null | undefined;
  /** Own deadline timer, only for a per-call timeout. */
  timer: NodeJS.Timeout | undefined;
  /** Dedicated connection held by a blocking attempt. */
  conn: DedicatedConnection | undefined;
  lastError: Error | undefined;
  /** Telemetry state of an observed command (span, trace context), owned by the CommandObserver. */
  trace: unknown = undefined;
  /** Set by the node writer: reply context of the connection of the current attempt. */
  context: ReplyContext = undefined;
  #done!: (value: unknown) => void;
  #fail!: (err: Error) => void;
  readonly promise: Promise<unknown>;
  /** performance.now() at acceptance, for an observed command (else 0). */
  readonly startedAt: number;
  // The RequestInit fields again, each assigned in the constructor in one
  // fixed order: every Request gets the same hidden class (an
  // Object.assign(this, init) would vary it with the optional fields present).
  readonly info: CommandInfo;
  /** Lower-case command name (what is written). */
  readonly name: string;
  readonly args: unknown[];
  readonly slot: number;
  readonly encoding: 'utf8' | null;
  readonly replyEncoding: 'utf8' | null;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly traced: boolean;
  readonly block: BlockSpec | undefined;
  readonly blockUntil: number;
  readonly pinned: NodeHandle | undefined;
  readonly seq: SlotSequencer<Request> | undefined;
  /** Position in its sequencer's group (0 when not sequenced). */
  readonly seqIndex: number;
  readonly #onExpire: (r: Request) => void;
  readonly #sink: ReplySink;

  constructor(init: RequestInit, onExpire: (r: Request) => void, sink: ReplySink) {
    this.info = init.info;
    this.name = init.info.name;
    this.args = init.args;
    this.slot = init.slot;
    this.encoding = init.encoding;
    this.replyEncoding = init.encoding;
    this.deadline = init.deadline;
    this.timeoutMs = init.timeoutMs;
    this.traced = init.traced;
    this.block = init.block;
    this.blockUntil = init.blockUntil;
    this.pinned = init.pinned;
    this.seq = init.seq;
    this.seqIndex = init.seq === undefined ? 0 : init.seq.nextIndex();
    this.#onExpire = onExpire;
    this.#sink = sink;
    this.promise = new Promise((resolve, reject) => {
      this.#done = resolve;
      this.#fail = reject;
    });
    this.startedAt = init.traced ? performance.now() : 0;
  }

  /** Settles the caller's promise with a value (the executor's settle only). */
  fulfil(value: unknown): void {
    this.#done(value);
  }

  /** Settles the caller's promise with an error (the executor's settle only). */
  fail(err: Error): void {
    this.#fail(err);
  }

  /** @internal Outgoing: the raw reply of the current attempt, from the connection's reply dispatcher. */
  resolve(raw: unknown): void {
    let value: unknown;
    try {
      value = convertReply(this, raw);
    } catch (err) {
      this.#sink.error(this, err as Error);
      return;
    }
    this.#sink.reply(this, value);
  }

  /** @internal Outgoing: an error reply, a lost connection or a refused write of the current attempt. */
  reject(err: Error): void {
    this.#sink.error(this, err);
  }

  /** @internal Outgoing: an already converted reply (the attempt went through an ioredis Command). */
  replied(value: unknown): void {
    this.#sink.reply(this, value);
  }

  /** Upper-case command name for messages and error context. */
  get command(): string {
    return this.info.name.toUpperCase();
  }

  /**
   * Why this request could not complete by its deadline: the open breaker
   * that kept it from being sent, the redirect loop or endless redirect chain
   * it was waiting out, or a TimeoutError carrying the last error.
   */
  expiryError(): Error {
    const last = this.lastError;
    if (last instanceof CircuitOpenError || last instanceof SlotMigrationStuckError || last instanceof MaxRedirectionsError) return last;
    return new TimeoutError(
      `${this.command} did not complete within ${this.timeoutMs} ms` +
        `${this.attempts > 1 ? ` (${this.attempts} attempts)` : ''}${last ? `; last error: ${last.message}` : ''}`,
      this.timeoutMs,
      {
        command: this.command,
        ...(this.slot === ANY_SLOT ? {} : { slot: this.slot }),
        ...(this.node ? { address: this.node.address } : {}),
        ...(last ? { cause: last } : {}),
      },
    );
  }

  /** What the `slotwise:command` channel publishes once this request settled. */
  diagnostics(error: Error | undefined): CommandDiagnostics {
    return {
      command: this.info.name,
      slot: this.slot,
      address: this.node?.address,
      attempts: this.attempts,
      redirections: this.redirections,
      durationMs: performance.now() - this.startedAt,
      ...(error ? { error } : {}),
    };
  }

  /** Called by the DeadlineQueue. */
  expire(): void {
    this.#onExpire(this);
  }
}
