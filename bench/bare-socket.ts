/**
 * The ceiling row of the router benchmarks: what plain Node can do on this
 * machine with none of a client's work. One `net.Socket` per master, a static
 * slot map read once (CLUSTER SLOTS), RESP written by hand into one string
 * per socket per tick, and replies only delimited and counted, never decoded
 * into values. No retries, no redirects, no timeouts: not a client, a limit.
 */
import { Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { connect, type Socket } from 'node:net';
import type { NodeAddress } from '../testcontainers/index.js';

class BareConnection {
  readonly #socket: Socket;
  #out = '';
  #scheduled = false;
  readonly #waiting: ((v: undefined) => void)[] = [];
  #head = 0;
  #rest: Buffer | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#read(d));
  }

  send(resp: string): Promise<undefined> {
    this.#out += resp;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => {
        this.#scheduled = false;
        const out = this.#out;
        this.#out = '';
        this.#socket.write(out);
      });
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Delimits complete replies (+ - : and $ bulk, what GET/SET answer) and resolves one waiter per reply. */
  #read(d: Buffer): void {
    const buf = this.#rest === undefined ? d : Buffer.concat([this.#rest, d]);
    let i = 0;
    for (;;) {
      const eol = buf.indexOf(13, i);
      if (eol === -1 || eol + 1 >= buf.length) break;
      let end = eol + 2;
      if (buf[i] === 0x24) {
        const len = Number(buf.toString("latin1", i + 1, eol));
        if (len >= 0) end += len + 2;
      }
      if (end > buf.length) break;
      i = end;
      this.#waiting[this.#head++]!(undefined);
    }
    if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    this.#rest = i < buf.length ? buf.subarray(i) : undefined;
  }

  close(): void {
    this.#socket.destroy();
  }
}

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** GET/SET straight onto the owning master's socket. */
export async function openBareSocket(roots: readonly NodeAddress[]) {
  const probe = new Redis({ host: roots[0]!.host, port: roots[0]!.port, lazyConnect: true });
  await probe.connect();
  const ranges = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  probe.disconnect();
  const byAddress = new Map<string, BareConnection>();
  const slots: BareConnection[] = new Array(16384);
  for (const [from, to, [host, port]] of ranges) {
    const addr = `${host}:${port}`;
    let c = byAddress.get(addr);
    if (c === undefined) {
      const socket = connect({ host, port });
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      c = new BareConnection(socket);
      byAddress.set(addr, c);
    }
    for (let s = from; s <= to; s++) slots[s] = c;
  }
  return {
    get: (k: string) => slots[calculateSlot(k)]!.send(`*2\r\n$3\r\nGET\r\n${bulk(k)}`),
    set: (k: string, v: string) => slots[calculateSlot(k)]!.send(`*3\r\n$3\r\nSET\r\n${bulk(k)}${bulk(v)}`),
    close: async () => {
      for (const c of byAddress.values()) c.close();
    },
  };
}
