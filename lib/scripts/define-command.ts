import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';
import type { Script } from './script.js';

/** What `defineCommand(name, definition)` takes (the ioredis shape). */
export interface CommandDefinition {
  /** The Lua source. */
  readonly lua: string;
  /**
   * How many of the leading arguments are keys (KEYS[]); the rest are ARGV[].
   * Omitted: the first argument of every call is the number of keys.
   * @default undefined
   */
  readonly numberOfKeys?: number;
  /** The script only reads: EVALSHA_RO/EVAL_RO, so `readFrom` may serve it from a replica. @default false */
  readonly readOnly?: boolean;
}

/** Runs a defined command's script with its keys and arguments. */
export type DefinedCommandRunner = (script: Script, keys: unknown[], args: unknown[], buffer: boolean) => Promise<unknown>;

type Callback = (err: Error | null, result?: unknown) => void;

/** A defined command: its script and how to split one call's arguments. */
export interface DefinedCommand {
  readonly script: Script;
  readonly numberOfKeys: number | undefined;
}

/** Checks a definition; throws InvalidArgumentError naming what is wrong. */
export function checkDefinition(name: unknown, def: unknown): asserts def is CommandDefinition {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new InvalidArgumentError('defineCommand name', `expected an identifier-like string (it becomes a method), got ${describe(name)}`);
  }
  if (def === null || typeof def !== 'object') {
    throw new InvalidArgumentError(`defineCommand("${name}") definition`, `expected { lua, numberOfKeys?, readOnly? }, got ${describe(def)}`);
  }
  const d = def as Record<string, unknown>;
  if (d.numberOfKeys !== undefined && d.numberOfKeys !== null && (!Number.isInteger(d.numberOfKeys) || (d.numberOfKeys as number) < 0)) {
    throw new InvalidArgumentError(`defineCommand("${name}") numberOfKeys`, `expected a non-negative integer or undefined, got ${describe(d.numberOfKeys)}`);
  }
}

/**
 * Splits one call's arguments (ioredis calling convention: keys first, then
 * ARGV, optionally a trailing callback; with no `numberOfKeys` the first
 * argument is the key count) into keys and ARGV.
 */
export function splitCall(name: string, numberOfKeys: number | undefined, input: readonly unknown[]): { keys: unknown[]; args: unknown[]; callback: Callback | undefined } {
  const flat = input.flat();
  const callback = typeof flat[flat.length - 1] === 'function' ? (flat.pop() as Callback) : undefined;
  let n = numberOfKeys;
  if (n === undefined) {
    n = Number(flat.shift());
    if (!Number.isInteger(n) || n < 0 || n > flat.length) {
      throw new InvalidArgumentError(`${name}() number of keys`, `the command was defined without numberOfKeys, so its first argument must be the key count (0–${flat.length}); got ${describe(input[0])}`);
    }
  } else if (n > flat.length) {
    throw new InvalidArgumentError(`${name}() arguments`, `expected at least ${n} keys, got ${flat.length} arguments`);
  }
  return { keys: flat.slice(0, n), args: flat.slice(n), callback };
}

/**
 * Installs `name` and `nameBuffer` methods on `target` that run `cmd`'s
 * script through `run` (EVALSHA with the NOSCRIPT → EVAL fallback of Script).
 * Refuses to shadow an existing method that is not itself a defined command.
 */
export function installCommand(target: object, name: string, cmd: DefinedCommand, defined: Set<string>, run: DefinedCommandRunner): void {
  for (const method of [name, `${name}Buffer`]) {
    if (method in target && !defined.has(method)) {
      throw new InvalidArgumentError(`defineCommand name "${name}"`, `"${method}" is already a method of this client; choose another name`);
    }
  }
  const make = (buffer: boolean) => function (...input: unknown[]): Promise<unknown> {
    let call: ReturnType<typeof splitCall>;
    try {
      call = splitCall(name, cmd.numberOfKeys, input);
    } catch (err) {
      return Promise.reject(err);
    }
    const p = run(cmd.script, call.keys, call.args, buffer);
    const cb = call.callback;
    if (cb) p.then((v) => cb(null, v), (e: Error) => cb(e));
    return p;
  };
  for (const [method, buffer] of [[name, false], [`${name}Buffer`, true]] as const) {
    Object.defineProperty(target, method, { value: make(buffer), writable: true, configurable: true, enumerable: false });
    defined.add(method);
  }
}
