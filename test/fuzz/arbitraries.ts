/**
 * fast-check arbitraries and checks shared by the fuzz suites: values a
 * caller may pass (valid and not), command calls, and the outcome rule every
 * generated call must satisfy.
 */
import assert from 'node:assert/strict';
import { hasFlag, list as commandNames } from '@ioredis/commands';
import fc from 'fast-check';
import { InvalidArgumentError, SlotwiseError } from '../../lib/index.js';

/**
 * Commands the fuzzer may send with random arguments: data commands only.
 * Left out: admin/blocking/pub-sub/scripting commands, those that wipe or
 * switch the keyspace, and those that make the server allocate per argument
 * value (SETRANGE/SETBIT/BITFIELD offsets) — random numbers must not ask a
 * shared machine for half a gigabyte.
 */
const DENY = new Set([
  'flushall', 'flushdb', 'swapdb', 'move', 'select', 'migrate', 'wait', 'waitaof', 'keys', 'client', 'cluster', 'config',
  'command', 'debug', 'acl', 'module', 'latency', 'memory', 'slowlog', 'info', 'lolwut', 'monitor', 'readonly', 'readwrite',
  'asking', 'hello', 'auth', 'reset', 'quit', 'setrange', 'setbit', 'bitfield', 'restore', 'restore-asking', 'trimslots',
  'backup', 'bless', 'hotkeys', 'himport', 'xcfgset', 'function', 'script', 'lastsave', 'sort', 'sort_ro',
]);
export const FUZZ_COMMANDS = commandNames.filter(
  (n) => !DENY.has(n) && !hasFlag(n, 'admin') && !hasFlag(n, 'blocking') && !hasFlag(n, 'pubsub') && !hasFlag(n, 'noscript') && !n.startsWith('ar') && !n.startsWith('v'),
);

/** Strings are prefixed so a generated key never collides with a test's own. */
const str = fc.oneof(
  fc.string({ maxLength: 10 }).map((s) => `fz:${s}`),
  fc.string({ maxLength: 6 }).map((s) => `fz:{t}${s}`),
  fc.constantFrom('fz:{t}a', 'fz:{t}b', 'EX', 'PX', 'NX', 'XX', 'GET', 'COUNT', 'MATCH', 'fz:*', '0', '1', '+inf', '-inf', '*', '$', ''),
);
/** Small numbers only: some commands size their reply by a count argument. */
const num = fc.oneof(fc.integer({ min: -100, max: 100 }), fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(2 ** 53 + 2));

/** An argument ioredis sends faithfully. */
export const validArg: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: str },
  { weight: 2, arbitrary: num },
  { weight: 1, arbitrary: fc.bigInt({ min: -100n, max: 100n }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((u) => Buffer.from(u)) },
);

/** Values no command accepts in any position (a function only in last place is an ioredis callback, so it is not here). */
export const badArg: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom(Number.NaN, Infinity, -Infinity),
  fc.boolean(),
  fc.string().map((s) => Symbol(s)),
  fc.constant(0).map(() => ({ toString(): string { throw new Error('boom'); } })),
  fc.constant(0).map(() => Object.create(Buffer.prototype) as unknown),
  fc.uint8Array({ maxLength: 4 }).map((u) => new Uint8Array(u)),
  fc.constant(0).map(() => new Date(0)),
  fc.constant(0).map(() => new Map<unknown, unknown>([['f', undefined]])),
  fc.constant(0).map(() => ({ a: { nested: 1 } })),
  fc.constant(0).map(() => [['nested']]),
  fc.constant(0).map(() => new (class Point { x = 1; })()),
  fc.constant(0).map(() => Promise.resolve(1)),
);

/** Anything a caller might pass where an option or argument is expected. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: validArg },
  { weight: 2, arbitrary: badArg },
  { weight: 1, arbitrary: fc.constant(0).map(() => () => undefined) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, 5, 50, 1.5, 1e12) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxKeys: 2 }) },
);

/** An options object: some known keys (random values), sometimes an unknown one, sometimes not an object at all. */
export function optionsOf(keys: readonly string[], value: fc.Arbitrary<unknown> = anyValue): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...keys, 'bogusOption'), value, { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: badArg },
  );
}

export type Via = 'method' | 'buffer' | 'call' | 'send' | 'pipeline' | 'multi' | 'watch';

/** One generated command call. */
export interface CommandCase {
  readonly via: Via;
  readonly name: string;
  readonly args: readonly unknown[];
  /** True when an argument is invalid by construction: it must be rejected with InvalidArgumentError. */
  readonly garbage: boolean;
}

const via = fc.constantFrom<Via>('method', 'method', 'buffer', 'call', 'send', 'pipeline', 'multi', 'watch');
const args = fc.array(validArg, { maxLength: 5 });

/** A well-formed-looking call (any command, valid argument types). */
export const validCall: fc.Arbitrary<CommandCase> = fc.record({ via, name: fc.constantFrom(...FUZZ_COMMANDS), args }).map((c) => ({ ...c, garbage: false }));

/** A call with one invalid argument, at the top level or inside an array argument. */
export const garbageCall: fc.Arbitrary<CommandCase> = fc
  .record({ via, name: fc.constantFrom(...FUZZ_COMMANDS), args, bad: badArg, at: fc.nat(), nested: fc.boolean() })
  .map(({ via: v, name, args: a, bad, at, nested }) => {
    const out = [...a];
    const i = at % (out.length + 1);
    out.splice(i, 0, nested ? ['fz:x', bad] : bad);
    return { via: v, name, args: out, garbage: true };
  });

/** A call whose name is not a usable command name (call()/send()/pipeline only). */
export const badNameCall: fc.Arbitrary<CommandCase> = fc
  .record({ via: fc.constantFrom<Via>('call', 'send', 'pipeline'), name: fc.oneof(badArg, fc.constant(''), fc.integer()), args })
  .map((c) => ({ ...c, name: c.name as string, garbage: true }));

/** The outcome rule: a typed slotwise error or a Redis reply error — never a raw TypeError. */
export function assertTypedError(err: unknown, what: string): void {
  if (err instanceof SlotwiseError) {
    assert.match(err.code, /^ERR_SLOTWISE_/, `${what}: code ${err.code}`);
    return;
  }
  if (err instanceof Error && err.name === 'ReplyError') return;
  assert.fail(`${what}: rejected with ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}, not a SlotwiseError or Redis reply error`);
}

/** For calls invalid by construction: InvalidArgumentError, naming the command. */
export function assertInvalidArgument(err: unknown, what: string): void {
  assertTypedError(err, what);
  assert.ok(err instanceof InvalidArgumentError, `${what}: expected InvalidArgumentError, got ${(err as Error).name}: ${(err as Error).message}`);
}

/** A short printable form of a case (symbols and throwing objects included). */
export function show(c: CommandCase): string {
  const one = (a: unknown): string => {
    try {
      if (typeof a === 'symbol') return 'Symbol()';
      if (typeof a === 'bigint') return `${a}n`;
      if (Buffer.isBuffer(a) && ArrayBuffer.isView(a)) return `<Buffer ${a.length}>`;
      if (Array.isArray(a)) return `[${a.map(one).join(', ')}]`;
      if (typeof a === 'object' && a !== null) return Object.prototype.toString.call(a);
      return JSON.stringify(a) ?? String(a);
    } catch {
      return '<unprintable>';
    }
  };
  return `${c.via} ${one(c.name)}(${c.args.map(one).join(', ')})`;
}
