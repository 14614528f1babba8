import { list as commandNames } from '@ioredis/commands';

/** How a batch class queues one command: `buffer` asks for Buffer replies. */
export type PushCommand<T> = (self: T, name: string, args: unknown[], buffer: boolean) => T;

/**
 * Gives a batch class (pipeline, transaction, the ioredis shim's batches) one
 * chainable method per Redis command plus its `…Buffer` form, skipping names
 * the class defines itself. `push` reaches the class's private queue.
 */
export function installCommandMethods<T>(proto: object, push: PushCommand<T>): void {
  const methods = proto as Record<string, unknown>;
  for (const name of commandNames) {
    if (name in methods) continue;
    methods[name] = function (this: T, ...args: unknown[]) {
      return push(this, name, args, false);
    };
    methods[`${name}Buffer`] = function (this: T, ...args: unknown[]) {
      return push(this, name, args, true);
    };
  }
}
