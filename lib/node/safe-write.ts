import { Command, type Redis } from 'ioredis';
import type { InvalidArgumentError } from '../errors.js';
import { unencodable } from './outgoing.js';

/**
 * Writes one command on a connection, isolating its encoding: ioredis turns
 * the arguments into RESP inside `sendCommand()` (`Command.toWritable`), and
 * an argument that cannot be encoded (a throwing `toString`, an object that
 * only pretends to be a Buffer) throws there, synchronously — out of whatever
 * called us, which may be a timer or socket callback. Here that failure
 * rejects this command only, with InvalidArgumentError. Nothing of it was
 * written (ioredis encodes before it writes or queues the command), so the
 * connection's batch and every other caller's command are untouched.
 *
 * The boundary check (lib/core/arguments.ts) rejects such arguments before a
 * Command exists; this is the second line for paths that bypass it.
 * Returns the command's promise, or a rejected one when it could not be written.
 */
export function writeCommand(r: Redis, cmd: Command): Promise<unknown> {
  try {
    r.sendCommand(cmd);
    return cmd.promise;
  } catch (err) {
    return Promise.reject(encodingFailed(cmd, err));
  }
}

/**
 * Writes ASKING and then `cmd` back to back. When `cmd` cannot be encoded, a
 * PING takes its place, so the one-shot ASKING flag is not left for the next
 * caller's command on this connection.
 */
export function writeAsking(r: Redis, cmd: Command): Promise<unknown> {
  const ask = new Command('asking', []);
  ask.promise.catch(() => undefined);
  r.sendCommand(ask);
  try {
    r.sendCommand(cmd);
    return cmd.promise;
  } catch (err) {
    const ping = new Command('ping', []);
    ping.promise.catch(() => undefined);
    r.sendCommand(ping);
    return Promise.reject(encodingFailed(cmd, err));
  }
}

/** Rejects `cmd` (nothing of it was written) with the InvalidArgumentError its caller gets. */
export function encodingFailed(cmd: Command, err: unknown): InvalidArgumentError {
  const error = unencodable(String(cmd.name), err);
  // The command's own promise may already be rejected (ioredis stringifies in
  // its constructor) or never settle now: either way nobody awaits it.
  cmd.promise.catch(() => undefined);
  try {
    (cmd.reject as ((e: Error) => void) | undefined)?.(error);
  } catch {
    // reject is ioredis' own; a failure there must not escape either
  }
  return error;
}
