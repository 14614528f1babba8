/**
 * RESP encoding into one contiguous buffer per flush: every command a node
 * receives within one tick is appended here and the socket gets ONE write
 * (instead of one string or MixedBuffers per command handed to writev).
 *
 * Bytes are written into a shared chunk; a flush hands the socket a view of
 * the bytes appended since the previous flush and the next command continues
 * after them, so a chunk is only replaced (never reused) once it is full —
 * the socket may still hold views of it.
 *
 * The encoding is byte-for-byte what ioredis' `Command.toWritable` produces
 * for the same (already stringified) arguments; test/unit/node/resp-writer.test.ts
 * checks that property on random commands.
 */

const CHUNK = 64 * 1024;
/** `$len\r\nname\r\n` per command name, precomputed on first use. */
const NAME_CACHE = new Map<string, Buffer>();
const ASKING = Buffer.from('*1\r\n$6\r\nasking\r\n', 'latin1');

/** Node's Buffer has these (lib/buffer.js) without the encoding dispatch of `write()`; @types/node does not list them. */
type FastBuffer = Buffer & {
  latin1Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
};

function nameBulk(name: string): Buffer {
  let b = NAME_CACHE.get(name);
  if (b === undefined) {
    b = Buffer.from(`$${Buffer.byteLength(name)}\r\n${name}\r\n`);
    // Names come from the command table (bounded); guard anyway against a flood of odd ones.
    if (NAME_CACHE.size < 4096) NAME_CACHE.set(name, b);
  }
  return b;
}

/** Thrown (and caught per command) for an argument that is neither a string nor a Buffer. */
export class UnencodableArgumentError extends TypeError {
  constructor(index: number, value: unknown) {
    super(`argument ${index} is ${describe(value)}, not a string or Buffer`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

/**
 * One node connection's outgoing bytes between two flushes.
 * Not thread-of-control safe across ticks by design: a NodeHandle owns one.
 */
export class RespWriter {
  #chunk = Buffer.allocUnsafeSlow(CHUNK) as FastBuffer;
  /** Start of the bytes not yet flushed. */
  #start = 0;
  /** End of the bytes written so far. */
  #pos = 0;

  /** Bytes appended and not yet taken by `take()`. */
  get pending(): number {
    return this.#pos - this.#start;
  }

  /**
   * Appends one command. Arguments must be strings or Buffers (what ioredis'
   * Command leaves after stringifying numbers). On any failure nothing of
   * this command stays in the buffer and the error is rethrown. `asking`
   * puts ASKING in front of it, atomically.
   */
  append(name: string, args: readonly unknown[], asking = false): void {
    const mark = this.#pos - this.#start;
    try {
      // ASKING must immediately precede its command: both go in, or neither.
      if (asking) this.#bytes(ASKING);
      this.#encode(name, args);
    } catch (err) {
      // #encode may have moved the pending bytes into a new chunk: the mark is relative.
      this.#pos = this.#start + mark;
      throw err;
    }
  }

  /** The pending bytes as one Buffer (a view, no copy); the writer starts after them. */
  take(): Buffer {
    const out = this.#chunk.subarray(this.#start, this.#pos);
    this.#start = this.#pos;
    // A nearly full chunk, or one grown for a large value (not kept for good), is replaced.
    if (this.#chunk.length - this.#pos < 1024 || this.#chunk.length > CHUNK) {
      this.#chunk = Buffer.allocUnsafeSlow(CHUNK) as FastBuffer;
      this.#start = 0;
      this.#pos = 0;
    }
    return out;
  }

  /** Drops the pending bytes (their connection is gone). */
  discard(): void {
    this.#pos = this.#start;
  }

  #encode(name: string, args: readonly unknown[]): void {
    const n = args.length + 1;
    const head = nameBulk(name);
    this.#ensure(head.length + 16);
    let c = this.#chunk;
    if (n < 10) {
      // `*N\r\n` and the name's bulk string, byte by byte: cheaper than copy() for a few bytes.
      c[this.#pos] = 0x2a;
      c[this.#pos + 1] = 0x30 + n;
      c[this.#pos + 2] = 0x0d;
      c[this.#pos + 3] = 0x0a;
      this.#pos += 4;
    } else {
      this.#pos += c.latin1Write(`*${n}\r\n`, this.#pos);
    }
    if (head.length <= 24) {
      let p = this.#pos;
      for (let j = 0; j < head.length; j++) c[p++] = head[j]!;
      this.#pos = p;
    } else {
      this.#pos += head.copy(c, this.#pos);
    }
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === 'string') {
        const len = Buffer.byteLength(arg);
        this.#ensure(len + 16);
        this.#lengthPrefix(len);
        c = this.#chunk;
        this.#pos += len === arg.length && len < 64 ? c.latin1Write(arg, this.#pos) : c.utf8Write(arg, this.#pos);
        c[this.#pos] = 0x0d;
        c[this.#pos + 1] = 0x0a;
        this.#pos += 2;
      } else if (arg instanceof Buffer) {
        if (arg.length === 0) {
          this.#ascii('$0\r\n\r\n');
          continue;
        }
        this.#ensure(arg.length + 16);
        this.#lengthPrefix(arg.length);
        c = this.#chunk;
        this.#pos += arg.copy(c, this.#pos);
        c[this.#pos] = 0x0d;
        c[this.#pos + 1] = 0x0a;
        this.#pos += 2;
      } else {
        throw new UnencodableArgumentError(i, arg);
      }
    }
  }

  /** `$len\r\n` (capacity already ensured). */
  #lengthPrefix(len: number): void {
    const c = this.#chunk;
    c[this.#pos++] = 0x24;
    if (len < 10) c[this.#pos++] = 0x30 + len;
    else if (len < 100) {
      c[this.#pos++] = 0x30 + ((len / 10) | 0);
      c[this.#pos++] = 0x30 + (len % 10);
    } else this.#pos += c.latin1Write(String(len), this.#pos);
    c[this.#pos] = 0x0d;
    c[this.#pos + 1] = 0x0a;
    this.#pos += 2;
  }

  #bytes(b: Buffer): void {
    this.#ensure(b.length);
    this.#pos += b.copy(this.#chunk, this.#pos);
  }

  #ascii(s: string): void {
    this.#ensure(s.length);
    this.#pos += this.#chunk.latin1Write(s, this.#pos);
  }

  /** Room for `n` more bytes: pending bytes move to a fresh, big enough chunk. */
  #ensure(n: number): void {
    if (this.#pos + n <= this.#chunk.length) return;
    const pending = this.#pos - this.#start;
    const next = Buffer.allocUnsafeSlow(Math.max(CHUNK, 2 * (pending + n))) as FastBuffer;
    this.#chunk.copy(next, 0, this.#start, this.#pos);
    this.#chunk = next;
    this.#start = 0;
    this.#pos = pending;
  }
}
