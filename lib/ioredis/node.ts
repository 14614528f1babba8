import { list as commandNames } from '@ioredis/commands';
import { Command, type RedisCommander } from 'ioredis';
import type { Readable } from 'node:stream';
import type { NodeHandle } from '../index.js';
import { prefixArgs } from './prefix.js';
import { cursorStream, scanTail, type ScanStreamOptions } from './scan-stream.js';

/**
 * Commands that would change the state of the node's shared (multiplexed)
 * connection for every other command on it: not offered on a node.
 */
const NOT_ON_SHARED = new Set(['monitor', 'quit', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'select', 'reset', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'readonly', 'readwrite', 'asking', 'hello', 'auth']);

type Callback = (err: Error | null, result?: unknown) => void;

/** Typed command methods, as on the ioredis `Redis` objects that ioredis' `cluster.nodes()` returns. */
export interface ClusterNodeClient extends Omit<RedisCommander<{ type: 'default' }>, 'call' | 'callBuffer' | 'quit' | 'disconnect' | 'monitor' | 'subscribe' | 'psubscribe' | 'ssubscribe'> {}

/**
 * One node of the cluster as `cluster.nodes()` hands it out: every command
 * method (and its Buffer variant), `call`, `callBuffer` and `scanStream`,
 * sent to THIS node only, on slotwise's connection to it — no redirect is
 * followed (a MOVED from here reaches the caller, as with ioredis' nodes).
 * `options.host`/`options.port` name the node. It does not own the
 * connection: closing the Cluster closes it.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class ClusterNodeClient {
  /** Where the node is, as on ioredis' node objects. */
  readonly options: {
    /** Host of the node. */
    readonly host: string;
    /** Port of the node. */
    readonly port: number;
    /** True for a replica. */
    readonly readOnly: boolean;
  };
  readonly #node: NodeHandle;
  readonly #keyPrefix: string | undefined;

  /** @internal Built by `Cluster.nodes()`. */
  constructor(node: NodeHandle, keyPrefix: string | undefined) {
    this.#node = node;
    this.#keyPrefix = keyPrefix;
    this.options = Object.freeze({ host: node.host, port: node.port, readOnly: node.role === 'replica' });
  }

  /** `host:port` of the node. */
  get address(): string {
    return this.#node.address;
  }

  /** 'ready' while the node is in the map and usable, 'end' once it was removed. */
  get status(): 'ready' | 'end' {
    return this.#node.closed ? 'end' : 'ready';
  }

  /** Any command by name, sent to this node; a trailing function argument is a Node-style callback. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, false);
  }

  /** As call, string replies as Buffers. */
  callBuffer(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, true);
  }

  /** SCAN of this node only, as an object-mode stream of key arrays (one per SCAN step). */
  scanStream(opts?: ScanStreamOptions): Readable {
    return cursorStream((cursor) => this.#run('scan', [cursor, ...scanTail(opts, true)], false));
  }

  /** As scanStream, keys as Buffers. */
  scanBufferStream(opts?: ScanStreamOptions): Readable {
    return cursorStream((cursor) => this.#run('scan', [cursor, ...scanTail(opts, true)], true));
  }

  #run(name: string, input: unknown[], buffer: boolean): Promise<unknown> {
    const cb = typeof input[input.length - 1] === 'function' ? (input.pop() as Callback) : undefined;
    const args = this.#keyPrefix === undefined ? input : prefixArgs(name, input, this.#keyPrefix);
    const p = this.#node.submit(new Command(name.toLowerCase(), args as never[], buffer ? {} : { replyEncoding: 'utf8' }));
    if (cb) p.then((v) => cb(null, v), (e: Error) => cb(e));
    return p;
  }

  static {
    const proto = this.prototype as unknown as Record<string, unknown>;
    for (const name of commandNames) {
      if (name in proto || NOT_ON_SHARED.has(name)) continue;
      proto[name] = function (this: ClusterNodeClient, ...args: unknown[]) {
        return this.#run(name, args, false);
      };
      proto[`${name}Buffer`] = function (this: ClusterNodeClient, ...args: unknown[]) {
        return this.#run(name, args, true);
      };
    }
  }
}
