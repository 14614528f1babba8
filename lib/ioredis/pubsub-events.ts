import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';
import type { ClusterClient, Subscription, SubscriptionKind } from '../index.js';

type Emit = (event: string, ...args: unknown[]) => boolean;
type Callback = (err: Error | null, result?: unknown) => void;

/**
 * ioredis' event-style pub/sub over slotwise's: `subscribe('a', 'b')` then
 * `on('message', (channel, message) => …)`; `psubscribe` → `pmessage`
 * `(pattern, channel, message)`; `ssubscribe` → `smessage`. Each
 * channel is its own slotwise Subscription, so one can be unsubscribed
 * alone. The `…Buffer` events carry the same payloads as Buffers.
 */
export class EventPubSub {
  readonly #client: ClusterClient;
  readonly #emit: Emit;
  readonly #listening: (event: string) => boolean;
  readonly #subs: Record<SubscriptionKind, Map<string, Promise<Subscription>>> = { subscribe: new Map(), psubscribe: new Map(), ssubscribe: new Map() };

  constructor(client: ClusterClient, emit: Emit, listening: (event: string) => boolean) {
    this.#client = client;
    this.#emit = emit;
    this.#listening = listening;
  }

  /** Subscribes to the channels not yet subscribed; resolves the number of channels of this kind. */
  subscribe(kind: SubscriptionKind, input: unknown[]): Promise<number> {
    const { names, callback } = parse(kind, input);
    const subs = this.#subs[kind];
    const pending: Promise<Subscription>[] = [];
    for (const name of names) {
      let s = subs.get(name);
      if (s === undefined) {
        s = this.#client[kind](name, (message, channel, pattern) => this.#deliver(kind, message, channel, pattern));
        subs.set(name, s);
        // A failed subscribe leaves nothing behind: a later call tries again.
        s.catch(() => subs.delete(name));
      }
      pending.push(s);
    }
    const p = Promise.all(pending).then(() => subs.size);
    return withCallback(p, callback);
  }

  /** Unsubscribes the given channels (all of this kind when none); resolves how many remain. */
  unsubscribe(kind: SubscriptionKind, input: unknown[]): Promise<number> {
    const { names, callback } = parse(kind, input, true);
    const subs = this.#subs[kind];
    const which = names.length === 0 ? [...subs.keys()] : names;
    const done = which.map((name) => {
      const s = subs.get(name);
      subs.delete(name);
      return s?.then((sub) => sub.unsubscribe(), () => undefined);
    });
    return withCallback(Promise.all(done).then(() => subs.size), callback);
  }

  /** Every subscription, for quit/disconnect. */
  async closeAll(): Promise<void> {
    const all = Object.values(this.#subs).flatMap((m) => [...m.values()]);
    for (const m of Object.values(this.#subs)) m.clear();
    await Promise.all(all.map((s) => s.then((sub) => sub.unsubscribe(), () => undefined)));
  }

  #deliver(kind: SubscriptionKind, message: string, channel: string, pattern: string | undefined): void {
    const emit = this.#emit;
    if (kind === 'psubscribe') {
      emit('pmessage', pattern, channel, message);
      if (this.#listening('pmessageBuffer')) emit('pmessageBuffer', Buffer.from(pattern ?? ''), Buffer.from(channel), Buffer.from(message));
    } else {
      const event = kind === 'ssubscribe' ? 'smessage' : 'message';
      emit(event, channel, message);
      if (this.#listening(`${event}Buffer`)) emit(`${event}Buffer`, Buffer.from(channel), Buffer.from(message));
    }
  }
}

function parse(kind: string, input: unknown[], allowEmpty = false): { names: string[]; callback: Callback | undefined } {
  const flat = input.flat();
  const callback = typeof flat[flat.length - 1] === 'function' ? (flat.pop() as Callback) : undefined;
  if (!allowEmpty && flat.length === 0) throw new InvalidArgumentError(`${kind} channels`, 'expected at least one channel name');
  for (const c of flat) {
    if (typeof c !== 'string' || c.length === 0) throw new InvalidArgumentError(`${kind} channel`, `expected a non-empty string, got ${describe(c)}`);
  }
  return { names: flat as string[], callback };
}

function withCallback<T>(p: Promise<T>, cb: Callback | undefined): Promise<T> {
  if (cb) p.then((v) => cb(null, v), (e: Error) => cb(e));
  return p;
}
