import calculateSlot from 'cluster-key-slot';
import { InvalidArgumentError } from '../errors.js';
import { describe } from './describe.js';

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;

/** Throws InvalidArgumentError unless `slot` is a hash slot. */
export function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new InvalidArgumentError('slot', `expected an integer from 0 to ${SLOT_COUNT - 1}, got ${describe(slot)}`);
  }
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/**
 * The hash slot of a key, exactly as `CLUSTER KEYSLOT` computes it.
 *
 * cluster-key-slot 1.1.x mis-hashes keys whose first `{` is immediately closed
 * (an empty tag, which the spec says means "hash the whole key") when another
 * `}` follows later, e.g. `a{}b}`: it hashes `b` instead. So we find the tag
 * ourselves per the spec and only hand the library bytes it cannot misread.
 */
export function slotOf(key: string | Buffer | number): number {
  if (typeof key === 'number') return calculateSlot(String(key));
  const open = typeof key === 'string' ? key.indexOf('{') : key.indexOf(OPEN);
  if (open === -1) return typeof key === 'string' ? stringSlot(key) : calculateSlot(key);
  const close = typeof key === 'string' ? key.indexOf('}', open + 1) : key.indexOf(CLOSE, open + 1);
  if (close === -1) return calculateSlot(key);
  if (close > open + 1) {
    // The tag holds no `}`, so the library hashes it whole.
    return typeof key === 'string' ? stringSlot(key, open + 1, close) : calculateSlot(key.subarray(open + 1, close));
  }
  // Empty tag: the whole key is hashed. Safe for the library unless a later `}` exists.
  const later = typeof key === 'string' ? key.indexOf('}', close + 1) : key.indexOf(CLOSE, close + 1);
  if (later === -1) return calculateSlot(key);
  return crc16(typeof key === 'string' ? Buffer.from(key, 'utf8') : key) & (SLOT_COUNT - 1);
}

/**
 * The slot of a string key without a tag, or of its tag `key[from, to)`. An
 * ASCII key's characters are its bytes, so it is hashed in place;
 * cluster-key-slot first copies every key into a new array of UTF-8 bytes —
 * the router's most frequent allocation.
 */
function stringSlot(key: string, from = 0, to = key.length): number {
  table ??= buildTable();
  let crc = 0;
  for (let i = from; i < to; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return calculateSlot(from === 0 && to === key.length ? key : key.slice(from, to));
    crc = ((crc << 8) ^ table[((crc >> 8) ^ c) & 0xff]!) & 0xffff;
  }
  return crc & (SLOT_COUNT - 1);
}

let table: Uint16Array | undefined;

/** CRC16/XMODEM, only for the keys cluster-key-slot mis-hashes (see slotOf). */
function crc16(bytes: Uint8Array): number {
  table ??= buildTable();
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ table[((crc >> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return crc;
}

function buildTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
}
