import { EventEmitter } from 'node:events';
import { InvalidArgumentError } from '../errors.js';
import type { GapEvent, PubSubMessage, SubscriptionKind } from './types.js';
import { describe } from '../core/describe.js';

/** Events of one Subscription. */
export interface SubscriptionEvents {
  /** One of this subscription's channels was not live for a while. */
  gap: [gap: GapEvent];
}

/**
 * A live subscription to one or more channels (or patterns), returned once
 * the server confirmed all of them. slotwise keeps it live across reconnects,
 * reshards and failovers; every window in which it was not is reported as a
 * `gap` event. Call `unsubscribe()` (or `await using`) to end it.
 */
export class Subscription extends EventEmitter<SubscriptionEvents> {
  /** How it was made: `subscribe`, `psubscribe`, `ssubscribe` or keyspace events. */
  readonly kind: SubscriptionKind | 'keyspace';
  /** Channels, patterns or keyspace channels this subscription covers. */
  readonly channels: readonly string[];
  readonly #end: (s: Subscription) => Promise<void>;
  #closed: Promise<void> | undefined;

  /** @internal Created by `client.subscriber`. */
  constructor(kind: SubscriptionKind | 'keyspace', channels: readonly string[], end: (s: Subscription) => Promise<void>) {
    super();
    this.kind = kind;
    this.channels = Object.freeze([...channels]);
    this.#end = end;
  }

  /** Whether `unsubscribe()` was called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Stops delivery to this subscription; the server subscription ends when no other subscription needs it. Idempotent. */
  unsubscribe(): Promise<void> {
    this.#closed ??= this.#end(this);
    return this.#closed;
  }

  /** `await using sub = …` unsubscribes at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.unsubscribe();
  }
}

/** Options of the `…Iterator()` subscription methods. */
export interface IteratorOptions {
  /**
   * Messages buffered while the consumer is slower than the publishers. When
   * full, the OLDEST buffered message is discarded and counted in `dropped`.
   * @default 10000
   */
  bufferSize?: number;
}

/**
 * `for await (const msg of client.ssubscribeIterator(channel))`: messages as
 * an async iterator. Breaking out of the loop (or `return()`) unsubscribes.
 */
export class MessageIterator implements AsyncIterableIterator<PubSubMessage> {
  /** Resolves with the Subscription once it is live (rejects when subscribing failed). */
  readonly ready: Promise<Subscription>;
  readonly #buffer: PubSubMessage[] = [];
  readonly #max: number;
  #waiter: { resolve: (r: IteratorResult<PubSubMessage>) => void; reject: (e: Error) => void } | undefined;
  #done = false;
  #error: Error | undefined;
  #dropped = 0;

  /** @internal */
  constructor(options: IteratorOptions | undefined, start: (push: (m: PubSubMessage) => void) => Promise<Subscription>) {
    const o = options ?? {};
    if (typeof o !== 'object') throw new InvalidArgumentError('iterator options', `expected an object, got ${typeof o}`);
    for (const k of Object.keys(o)) {
      if (k !== 'bufferSize') throw new InvalidArgumentError(`option "${k}"`, 'unknown iterator option; known: bufferSize');
    }
    const size = o.bufferSize ?? 10_000;
    if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError('bufferSize', `expected an integer ≥ 1, got ${describe(size)}`);
    this.#max = size;
    this.ready = start((m) => this.#push(m));
    this.ready.catch((err: Error) => this.#fail(err));
  }

  /** Messages discarded because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The next message; waits for one when the buffer is empty. */
  next(): Promise<IteratorResult<PubSubMessage>> {
    const m = this.#buffer.shift();
    if (m !== undefined) return Promise.resolve({ value: m, done: false });
    if (this.#error) return Promise.reject(this.#error);
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** Ends the iteration and unsubscribes (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<PubSubMessage>> {
    this.#finish();
    const sub = await this.ready.catch(() => undefined);
    await sub?.unsubscribe();
    return { value: undefined, done: true };
  }

  /** The iterator itself, for `for await`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #push(m: PubSubMessage): void {
    if (this.#done) return;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve({ value: m, done: false });
      return;
    }
    if (this.#buffer.length >= this.#max) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#buffer.push(m);
  }

  #fail(err: Error): void {
    this.#error = err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(err);
  }

  #finish(): void {
    this.#done = true;
    this.#buffer.length = 0;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }
}
