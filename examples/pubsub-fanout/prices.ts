/**
 * Pub/sub fan-out with gap handling: every price update goes to every
 * service instance. Pub/sub is at most once, and slotwise reports each window
 * in which a subscription was not live as a `gap` event (connection lost,
 * failover, slot moved). So the publisher also appends each update to a
 * capped stream. On a gap, a subscriber reads the stream from its checkpoint
 * and applies what it missed. Updates are applied idempotently (by id) and a
 * price only moves to a newer update, so live and replayed updates may
 * interleave in any order.
 */
import { ClusterClient, Topic, type GapEvent, type Subscription } from 'slotwise';

/** One price update; `id` is its stream entry id (ordered). */
export interface PriceUpdate {
  id: string;
  sku: string;
  price: number;
}

const LOG = 'prices:{log}'; // the durable copy, capped to the last 10 000 updates

/** Appends the update to the log, then broadcasts it. */
export async function publishPrice(client: ClusterClient, topic: Topic<PriceUpdate>, sku: string, price: number): Promise<PriceUpdate> {
  const id = String(await client.xadd(LOG, 'MAXLEN', '~', '10000', '*', 'sku', sku, 'price', String(price)));
  const update = { id, sku, price };
  await topic.publish(update);
  return update;
}

/** Stream ids compare as (ms, seq). */
function after(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am > bm || (am === bm && as > bs);
}

/** One service instance's view of prices: live from the topic, gaps filled from the log. */
export class PriceSubscriber {
  /** Latest price per sku, with the id of the update it came from. */
  readonly prices = new Map<string, { price: number; id: string }>();
  /** Ids of every update applied, each once. */
  readonly applied = new Set<string>();
  readonly gaps: GapEvent[] = [];
  /** Every update up to here is applied for sure (advanced by each catch-up). */
  #checkpoint = '0-0';
  #subscription: Subscription | undefined;
  #catchingUp: Promise<void> = Promise.resolve();
  readonly #client: ClusterClient;
  readonly #topic: Topic<PriceUpdate>;

  constructor(client: ClusterClient) {
    this.#client = client;
    this.#topic = priceTopic(client);
  }

  async start(checkpoint = '0-0'): Promise<void> {
    this.#checkpoint = checkpoint;
    this.#subscription = await this.#topic.subscribe((u) => this.#apply(u));
    this.#subscription.on('gap', (gap) => {
      this.gaps.push(gap);
      // One catch-up at a time; a gap during a catch-up gets its own afterwards.
      this.#catchingUp = this.#catchingUp.then(() => this.#catchUp()).catch(() => undefined);
    });
  }

  #apply(u: PriceUpdate): void {
    if (this.applied.has(u.id)) return; // seen live and in the log
    this.applied.add(u.id);
    const current = this.prices.get(u.sku);
    if (current === undefined || after(u.id, current.id)) this.prices.set(u.sku, { price: u.price, id: u.id });
  }

  /** Applies every logged update after the checkpoint, then moves the checkpoint to the last one read. */
  async #catchUp(): Promise<void> {
    const entries = (await this.#client.xrange(LOG, `(${this.#checkpoint}`, '+')) as [string, string[]][];
    for (const [id, fields] of entries) this.#apply({ id, sku: fields[1]!, price: Number(fields[3]) });
    if (entries.length > 0) this.#checkpoint = entries[entries.length - 1]![0];
  }

  /** Waits for running catch-ups (tests, shutdown). */
  settled(): Promise<void> {
    return this.#catchingUp;
  }

  async stop(): Promise<void> {
    await this.#subscription?.unsubscribe();
    await this.#catchingUp;
  }
}

export function priceTopic(client: ClusterClient): Topic<PriceUpdate> {
  return new Topic<PriceUpdate>(client, 'prices');
}
