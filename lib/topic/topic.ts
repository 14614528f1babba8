import type { ClusterClient } from '../cluster-client.js';
import { checkClient } from '../check-client.js';
import { encode, resolveSerializer, type Serializer } from '../codec.js';
import { describeInput } from '../core/arguments.js';
import { InvalidArgumentError, MessageDecodeError } from '../errors.js';
import type { IteratorOptions, MessageIterator, Subscription } from '../pubsub/subscription.js';

/** Options of `new Topic(client, name, options)`. */
export interface TopicOptions<T> {
  /** How messages are turned into strings and back. @default strict JSON */
  serializer?: Serializer<T>;
  /** Prefix of the sharded channel name (`<prefix><name>`). @default 'topic:' */
  prefix?: string;
}

const KNOWN = new Set(['serializer', 'prefix']);

/**
 * A typed broadcast channel over sharded pub/sub: `publish(value)` reaches
 * every live subscriber of the topic, in every service. One topic is one
 * shard channel, so it lives on (and scales with) one shard; use several
 * topics to spread load. Delivery is at-most-once: a subscriber that is not
 * live (see the Subscription `gap` event) misses messages. Use a WorkQueue
 * when every message must be processed.
 *
 * ```ts
 * const orders = new Topic<{ id: string }>(client, 'orders');
 * await orders.subscribe((order) => console.log(order.id));
 * await orders.publish({ id: 'o-1' });
 * ```
 */
export class Topic<T = unknown> {
  /** The topic's name. */
  readonly name: string;
  /** The sharded channel carrying this topic. */
  readonly channel: string;
  readonly #client: ClusterClient;
  readonly #serializer: Serializer<T>;

  constructor(client: ClusterClient, name: string, options: TopicOptions<T> = {}) {
    checkClient(client);
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('topic name', `expected a non-empty string, got ${describeInput(name)}`);
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('topic options', 'expected an object');
    for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw new InvalidArgumentError(`option "${k}"`, `unknown topic option; known: ${[...KNOWN].join(', ')}`);
    const prefix = options.prefix ?? 'topic:';
    if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix', 'expected a string');
    this.name = name;
    this.channel = `${prefix}${name}`;
    this.#client = client;
    this.#serializer = resolveSerializer(options.serializer, 'serializer');
  }

  /**
   * Publishes to every live subscriber. Resolves with how many subscriber
   * connections on the channel's shard received it (0: nobody was listening).
   * A value the serializer rejects fails with InvalidArgumentError; nothing is sent.
   */
  async publish(message: T): Promise<number> {
    const text = encode(this.#serializer, message, 'message');
    return Number(await this.#client.spublish(this.channel, text));
  }

  /**
   * Calls `handler` with every message. A message that cannot be decoded is
   * reported as MessageDecodeError on `client.subscriber`'s `error` event.
   */
  subscribe(handler: (message: T) => void | Promise<void>): Promise<Subscription> {
    if (typeof handler !== 'function') return Promise.reject(new InvalidArgumentError('handler', `expected a function, got ${typeof handler}`));
    return this.#client.ssubscribe(this.channel, (text) => handler(this.#decode(text)));
  }

  /**
   * `for await (const message of topic.iterator())`; breaking out
   * unsubscribes. `await it.ready` resolves once the subscription is live.
   */
  iterator(options?: IteratorOptions): AsyncIterableIterator<T> & {
    /** Resolves once the subscription is live. */
    readonly ready: Promise<Subscription>;
  } {
    const it: MessageIterator = this.#client.ssubscribeIterator(this.channel, options);
    const decode = (text: string) => this.#decode(text);
    return {
      ready: it.ready,
      async next(): Promise<IteratorResult<T>> {
        const r = await it.next();
        return r.done ? { value: undefined, done: true } : { value: decode(r.value.message), done: false };
      },
      async return(): Promise<IteratorResult<T>> {
        await it.return();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #decode(text: string): T {
    try {
      return this.#serializer.deserialize(text);
    } catch (err) {
      throw new MessageDecodeError(`Topic "${this.name}" received a message its serializer cannot decode: ${(err as Error).message ?? String(err)}`, { cause: err });
    }
  }
}
