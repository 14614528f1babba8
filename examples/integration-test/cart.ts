/**
 * "Your own service": a shopping cart on a Redis Cluster. Everything of one
 * cart lives under the hash tag `{cart:<user>}`, so a checkout can be one
 * MULTI on one node.
 */
import type { ClusterClient } from 'slotwise';

export class CartService {
  readonly #client: ClusterClient;
  constructor(client: ClusterClient) {
    this.#client = client;
  }

  #key(user: string): string {
    return `{cart:${user}}:items`;
  }

  async add(user: string, sku: string, quantity = 1): Promise<void> {
    await this.#client.hincrby(this.#key(user), sku, quantity);
  }

  async items(user: string): Promise<Record<string, number>> {
    const raw = await this.#client.hgetall(this.#key(user));
    return Object.fromEntries(Object.entries(raw).map(([sku, n]) => [sku, Number(n)]));
  }

  /** Empties the cart and returns what was in it, atomically. */
  async checkout(user: string): Promise<Record<string, number>> {
    const result = await this.#client.multi().hgetall(this.#key(user)).del(this.#key(user)).exec();
    const raw = (result?.[0]?.[1] ?? {}) as Record<string, string>;
    return Object.fromEntries(Object.entries(raw).map(([sku, n]) => [sku, Number(n)]));
  }
}
