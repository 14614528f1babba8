import { CrossSlotError, InvalidArgumentError } from '../errors.js';
import { CONNECTION_BOUND_WAITS } from './blocking.js';
import { keyIndexes, type CommandInfo } from './commands.js';
import { ANY_SLOT } from './request.js';
import { slotOf } from '../core/slots.js';

/**
 * The slot of a command's keys: ANY_SLOT (-1) without keys, CrossSlotError
 * when they span slots. Runs before anything is sent, so a rejected command
 * never reaches a server.
 */
export function slotOfKeys(info: CommandInfo, args: readonly unknown[]): number {
  if (info.firstKeyOnly) return args.length === 0 ? ANY_SLOT : slotOf(args[0] as string | Buffer);
  const name = info.name;
  const idx = keyIndexes(name, args);
  // Too few arguments: let any master answer with the server's arity error.
  if (idx.length === 0 || idx[idx.length - 1]! >= args.length) return ANY_SLOT;
  const first = slotOf(args[idx[0]!] as string | Buffer);
  for (let i = 1; i < idx.length; i++) {
    if (slotOf(args[idx[i]!] as string | Buffer) !== first) {
      const slots = [...new Set(idx.map((j) => slotOf(args[j] as string | Buffer)))];
      throw new CrossSlotError(
        `${name.toUpperCase()} keys hash to ${slots.length} different slots (${slots.slice(0, 5).join(', ')}${slots.length > 5 ? ', …' : ''}); ` +
          'put them in one slot with a hash tag, e.g. "{user:42}:profile" and "{user:42}:cart"',
        slots,
        { command: name.toUpperCase() },
      );
    }
  }
  return first;
}

/** Why a connection-state or connection-bound command cannot run on the shared connection. */
export function refusedOnSharedConnection(info: CommandInfo): InvalidArgumentError {
  const name = info.name.toUpperCase();
  const hint = CONNECTION_BOUND_WAITS.has(info.name)
    ? `${name} only covers writes made on the connection it runs on; run the writes and ${name} together in client.withConnection(key, fn)`
    : 'it changes the state of the connection it runs on; use the client API made for it (multi(), watch(), subscribe(), withConnection(), …)';
  return new InvalidArgumentError(`command ${name}`, `${name} cannot run on the shared multiplexed connection: ${hint}`, { command: name });
}

