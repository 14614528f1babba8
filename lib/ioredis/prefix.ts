import { Command } from 'ioredis';

/**
 * Applies ioredis' keyPrefix to one command's arguments exactly as ioredis
 * does — by letting ioredis' own Command flatten the arguments, run its
 * argument transformers (`hset(key, { … })`, `mset(Map)`) and rewrite the
 * key positions @ioredis/commands names. Patterns (KEYS, SCAN MATCH) and
 * replies are not touched, as in ioredis.
 */
export function prefixArgs(name: string, args: readonly unknown[], keyPrefix: string): unknown[] {
  const cmd = new Command(name.toLowerCase(), args as never[], { keyPrefix });
  return cmd.args;
}

/** Prefixes a key (string or Buffer), for defined commands' KEYS. */
export function prefixKey(key: unknown, keyPrefix: string): unknown {
  return Buffer.isBuffer(key) ? Buffer.concat([Buffer.from(keyPrefix), key]) : `${keyPrefix}${String(key)}`;
}
