import { Command, type Redis } from 'ioredis';
import { unencodable, type Outgoing, type ReplyContext } from './outgoing.js';
import { RespWriter } from './resp-writer.js';
import { encodingFailed, writeAsking, writeCommand } from './safe-write.js';

/**
 * What ioredis' reply dispatcher (DataHandler) needs of a queued command:
 * it resolves or rejects `command` with the next reply, in write order.
 */
interface QueueItem {
  readonly command: { readonly name: string; readonly args: unknown[]; resolve(v: unknown): unknown; reject(e: Error): unknown };
  readonly stream: undefined;
  readonly select: number;
}

/** The parts of an ioredis connection this writer works with (not in its typings). */
interface RedisInternals {
  readonly commandQueue: { push(item: QueueItem): void; readonly length: number };
  readonly condition?: { readonly select: number };
  readonly options: object;
}

const ignore = (): undefined => undefined;
/** ASKING's reply is never looked at: one shared queue entry serves every ASKING. */
const ASKING_COMMAND: QueueItem['command'] = Object.freeze({ name: 'asking', args: [], resolve: ignore, reject: ignore });

/**
 * Commands that change the state ioredis keeps about its connection in
 * `sendCommand()` (selected db, subscriber mode, a closing connection,
 * handshake): they keep going through it, after the pending batch.
 */
const THROUGH_IOREDIS = new Set([
  'quit', 'select', 'hello', 'auth', 'monitor', 'reset',
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
]);

/**
 * The write path of one multiplexed connection: every command written in one
 * tick is RESP-encoded (lib/node/resp-writer.ts) into one contiguous buffer
 * and handed to the socket in ONE write on the next tick — instead of one
 * `sendCommand()` and one small string per command, gathered by writev.
 *
 * Replies still come through ioredis' decoder: each command is pushed on the
 * connection's `commandQueue` in the order its bytes are appended, exactly
 * what `sendCommand()` would have pushed. Anything else written on this
 * connection goes through `sendCommand()`, which is wrapped to flush the
 * pending batch first, so bytes and queue entries never cross.
 *
 * Encoding is isolated per command: one whose argument cannot be encoded
 * rejects alone (InvalidArgumentError), its bytes removed from the batch.
 */
export class BatchedWrites {
  readonly #redis: Redis;
  readonly #internals: RedisInternals;
  readonly #writer = new RespWriter();
  readonly #perTick: boolean;
  #scheduled = false;
  readonly #flushTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** `perTick: false` writes every command at once (autoPipelining off). */
  constructor(redis: Redis, perTick: boolean) {
    this.#redis = redis;
    this.#internals = redis as unknown as RedisInternals;
    this.#perTick = perTick;
    const send = redis.sendCommand;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    redis.sendCommand = function (this: Redis, ...a: Parameters<Redis['sendCommand']>) {
      if (self.#writer.pending !== 0) self.flush();
      return send.apply(this, a);
    } as Redis['sendCommand'];
  }

  /** The connection it writes on. */
  get redis(): Redis {
    return this.#redis;
  }

  /** Appends `cmd` (after ASKING when `asking`) to this tick's batch; returns its promise. */
  write(cmd: Command, asking: boolean): Promise<unknown> {
    const r = this.#redis;
    if (THROUGH_IOREDIS.has(cmd.name) || !r.stream.writable) return asking ? writeAsking(r, cmd) : writeCommand(r, cmd);
    try {
      this.#writer.append(cmd.name, cmd.args, asking);
    } catch (err) {
      return Promise.reject(encodingFailed(cmd, err));
    }
    const i = this.#internals;
    cmd.setReplyContext((i.condition ?? i.options) as Parameters<Command['setReplyContext']>[0]);
    const select = i.condition?.select ?? 0;
    if (asking) i.commandQueue.push({ command: ASKING_COMMAND, stream: undefined, select });
    i.commandQueue.push({ command: cmd as unknown as QueueItem['command'], stream: undefined, select });
    this.#schedule();
    return cmd.promise;
  }

  /**
   * The lean path: appends `out` (after ASKING when `asking`) to this tick's
   * batch, and ioredis' reply dispatcher answers `out` itself — no Command.
   * Never throws: every failure goes to `out.reject`.
   */
  send(out: Outgoing, asking: boolean): void {
    const r = this.#redis;
    if (THROUGH_IOREDIS.has(out.name) || !r.stream.writable) {
      const cmd = new Command(out.name, out.args as (string | Buffer)[], { replyEncoding: out.replyEncoding });
      (asking ? writeAsking(r, cmd) : writeCommand(r, cmd)).then((v) => out.replied(v), (e: Error) => out.reject(e));
      return;
    }
    try {
      this.#writer.append(out.name, out.args, asking);
    } catch (err) {
      out.reject(unencodable(out.name, err));
      return;
    }
    const i = this.#internals;
    out.context = (i.condition ?? i.options) as ReplyContext;
    const select = i.condition?.select ?? 0;
    if (asking) i.commandQueue.push({ command: ASKING_COMMAND, stream: undefined, select });
    i.commandQueue.push({ command: out as unknown as QueueItem['command'], stream: undefined, select });
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#perTick) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // After this loop turn's I/O callbacks: the commands that replies from
      // every node set off leave together, one write per node.
      setImmediate(this.#flushTick);
    }
  }

  /** Hands the pending bytes to the socket in one write. */
  flush(): void {
    if (this.#writer.pending === 0) return;
    const bytes = this.#writer.take();
    const stream = this.#redis.stream;
    // A connection lost meanwhile rejects the queued commands itself (ioredis' close handler).
    if (stream.writable) stream.write(bytes);
  }
}
