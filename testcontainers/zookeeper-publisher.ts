/**
 * Publishes a started cluster's nodes to a ZooKeeper znode as the nodes
 * document clients read (lib/core/nodes-document.ts), so services and tests
 * can find the cluster by path. The engine republishes after every change it
 * makes (kill, restart, failover, add, remove). Uses `node-zookeeper-client`
 * directly (the engine does not import the client library).
 */
import type * as Zk from 'node-zookeeper-client';
import type { HostPort } from '../lib/core/addresses.js';
import { formatNodesDocument } from '../lib/core/nodes-document.js';
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';

/** Where `withZooKeeper()` publishes. */
export interface ZooKeeperTarget {
  readonly connect: string;
  readonly path: string;
}

/** Checks a `withZooKeeper()` target: a connect string and an absolute znode path. */
export function checkZooKeeperTarget(connect: unknown, path: unknown): ZooKeeperTarget {
  if (typeof connect !== 'string' || !/^[^\s,]+:\d+(,[^\s,]+:\d+)*(\/\S*)?$/.test(connect)) {
    throw new InvalidArgumentError('zooKeeper connect', `expected "host:port[,host:port…]", got ${JSON.stringify(connect)}`);
  }
  if (typeof path !== 'string' || !/^(\/[^/\s]+)+$/.test(path)) {
    throw new InvalidArgumentError('zooKeeper path', `expected an absolute znode path like "/slotwise/clusters/main", got ${JSON.stringify(path)}`);
  }
  return { connect, path };
}

/** One ZooKeeper session of a started cluster, writing its nodes document. */
export class ZooKeeperPublisher {
  readonly target: ZooKeeperTarget;
  readonly #client: Zk.Client;
  readonly #timeoutMs: number;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(target: ZooKeeperTarget, client: Zk.Client, timeoutMs: number) {
    this.target = target;
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  /** Opens a session (waits until connected, up to `timeoutMs`). */
  static async open(target: ZooKeeperTarget, timeoutMs: number): Promise<ZooKeeperPublisher> {
    let zk: typeof Zk;
    try {
      const m = await import('node-zookeeper-client');
      zk = ((m as unknown as { default?: typeof Zk }).default ?? m) as typeof Zk;
    } catch (err) {
      throw new ClusterEngineError('withZooKeeper() needs the optional package node-zookeeper-client: npm install node-zookeeper-client', { cause: err });
    }
    const client = zk.createClient(target.connect, { sessionTimeout: 10_000, spinDelay: 200 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new ClusterEngineError(`ZooKeeper at ${target.connect} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return new ZooKeeperPublisher(target, client, Math.min(timeoutMs, 5000));
  }

  /**
   * Writes the nodes document (creating the path). Publications run one at
   * a time in call order, so the last call's list is what stays.
   */
  publish(nodes: readonly HostPort[]): Promise<void> {
    const text = formatNodesDocument(nodes);
    const run = this.#chain.then(() => this.#write(text));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #write(text: string): Promise<void> {
    if (this.#closed) return;
    const { path } = this.target;
    const data = Buffer.from(text, 'utf8');
    const step = (what: string, op: (cb: (err: unknown) => void) => void) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new ClusterEngineError(`ZooKeeper ${what} of ${path} timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
        op((err) => {
          clearTimeout(timer);
          if (err) reject(new ClusterEngineError(`ZooKeeper ${what} of ${path} failed: ${String(err)}`, { cause: err }));
          else resolve();
        });
      });
    await step('create', (cb) => this.#client.mkdirp(path, cb));
    await step('write', (cb) => this.#client.setData(path, data, cb));
  }

  /** Ends the session (the znode stays: it names the last nodes published). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    this.#client.removeAllListeners();
    this.#client.close();
  }
}
