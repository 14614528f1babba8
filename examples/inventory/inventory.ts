/**
 * An inventory service: reserving stock is read–check–write, so one Mutex
 * per product serializes it across every process, and the write is FENCED.
 * A holder paused past its lease (GC, a stalled VM) may wake up after another
 * process took the lock over. Its late write then carries an older fencing
 * token, and Redis refuses it (FencingTokenRejectedError) instead of
 * overwriting newer stock.
 *
 *   npx tsx examples/inventory/inventory.ts      (SLOTWISE_ROOT_NODES=127.0.0.1:7000)
 */
import { pathToFileURL } from 'node:url';
import { ClusterClient, Mutex } from 'slotwise';

export class Inventory {
  readonly #client: ClusterClient;
  constructor(client: ClusterClient) {
    this.#client = client;
  }

  /** The key holding a product's stock. The hash tag keeps its fence record in the same slot. */
  static stockKey(sku: string): string {
    return `inventory:{${sku}}:stock`;
  }

  /** The lock guarding a product's stock (a name without braces: slotwise adds the tag). */
  lock(sku: string): Mutex {
    return new Mutex(this.#client, `inventory:${sku}`, { leaseMs: 2000 });
  }

  async stock(sku: string): Promise<number> {
    return Number((await this.#client.get(Inventory.stockKey(sku))) ?? 0);
  }

  async restock(sku: string, quantity: number): Promise<void> {
    await this.lock(sku).using(async (_signal, handle) => {
      await handle.fencedSet(Inventory.stockKey(sku), String((await this.stock(sku)) + quantity));
    });
  }

  /** Takes `quantity` out of stock if there is enough; false when there is not. */
  async reserve(sku: string, quantity: number): Promise<boolean> {
    return this.lock(sku).using(async (signal, handle) => {
      const stock = await this.stock(sku);
      if (stock < quantity) return false;
      signal.throwIfAborted(); // the lease was lost meanwhile: do not write
      await handle.fencedSet(Inventory.stockKey(sku), String(stock - quantity));
      return true;
    }, { waitMs: 10_000 });
  }
}

async function main(): Promise<void> {
  const client = new ClusterClient({ rootNodes: (process.env.SLOTWISE_ROOT_NODES ?? '127.0.0.1:7000').split(',') });
  const inventory = new Inventory(client);
  const sku = `sku-${Date.now()}`;
  await inventory.restock(sku, 10);
  // 25 buyers at once for 10 items: exactly 10 succeed.
  const results = await Promise.all(Array.from({ length: 25 }, () => inventory.reserve(sku, 1)));
  console.log(`${results.filter(Boolean).length} reserved, stock left: ${await inventory.stock(sku)}`);
  await client.quit();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
