import { InvalidArgumentError, KeyspaceNotificationsDisabledError } from '../errors.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { NodeSubscriber } from './node-subscriber.js';
import type { Router } from '../router/router.js';
import type { GapEvent } from './types.js';
import { describe } from '../core/describe.js';

/** Options of `client.keyspaceEvents()`. */
export interface KeyspaceEventsOptions {
  /**
   * Event names to receive, as Redis names them (`expired`, `evicted`, `del`,
   * `set`, `hset`, `xadd`, …).
   * @default ['expired']
   */
  events?: readonly string[];
  /**
   * `'keyevent'`: one `__keyevent@0__:<event>` channel per event, every key.
   * `'keyspace'`: the `__keyspace@0__:<keyPattern>` pattern, only keys
   * matching `keyPattern` (events filtered to `events`).
   * @default 'keyevent'
   */
  channel?: 'keyevent' | 'keyspace';
  /** Glob of keys, with `channel: 'keyspace'` only. @default '*' */
  keyPattern?: string;
  /**
   * Keyspace notifications are off unless a node's `notify-keyspace-events`
   * setting enables them. `'verify'` checks every master and fails with
   * KeyspaceNotificationsDisabledError naming the missing flags; `'enable'`
   * adds the missing flags with CONFIG SET on every node (masters AND
   * replicas, so a promoted replica keeps emitting; not persisted to
   * redis.conf — put it there too); `'skip'` checks nothing.
   * @default 'verify'
   */
  config?: 'verify' | 'enable' | 'skip';
}

/** One keyspace notification. */
export interface KeyspaceEvent {
  /** Event name, e.g. `expired`. */
  readonly event: string;
  /** The key the event happened to. */
  readonly key: string;
  /** `host:port` of the master that emitted it. */
  readonly address: string;
}

const KNOWN = new Set(['events', 'channel', 'keyPattern', 'config']);
/** notify-keyspace-events class flag of each event (docs: "Keyspace notifications"). */
const CLASS: Record<string, string> = {
  expired: 'x', evicted: 'e', new: 'n', keymiss: 'm',
  del: 'g', expire: 'g', rename_from: 'g', rename_to: 'g', copy_to: 'g', move_from: 'g', move_to: 'g', restore: 'g', persist: 'g',
  set: '$', setrange: '$', incrby: '$', incrbyfloat: '$', append: '$',
  lpush: 'l', rpush: 'l', lpop: 'l', rpop: 'l', linsert: 'l', lset: 'l', lrem: 'l', ltrim: 'l',
  hset: 'h', hincrby: 'h', hincrbyfloat: 'h', hdel: 'h',
  sadd: 's', srem: 's', spop: 's', sinterstore: 's', sunionstore: 's', sdiffstore: 's',
  zadd: 'z', zincr: 'z', zrem: 'z', zremrangebyscore: 'z', zremrangebyrank: 'z', zinterstore: 'z', zunionstore: 'z', zdiffstore: 'z',
  xadd: 't', xtrim: 't', xdel: 't', xsetid: 't',
};
/** Classes the `A` alias stands for. */
const ALL = 'g$lshzxetd';

export interface ResolvedKeyspace {
  readonly events: readonly string[];
  readonly channel: 'keyevent' | 'keyspace';
  readonly keyPattern: string;
  readonly config: 'verify' | 'enable' | 'skip';
  /** Flags every master needs in notify-keyspace-events. */
  readonly flags: string;
  /** Server channels (keyevent) or the pattern (keyspace) subscribed on every master. */
  readonly channels: readonly string[];
}

/** Validates options up front; nothing is sent for rejected input. */
export function resolveKeyspaceOptions(o: KeyspaceEventsOptions = {}): ResolvedKeyspace {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('keyspace options', `expected an object, got ${describe(o)}`);
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new InvalidArgumentError(`option "${k}"`, `unknown keyspace option; known: ${[...KNOWN].join(', ')}`);
  const events = o.events ?? ['expired'];
  if (!Array.isArray(events) || events.length === 0 || events.some((e) => typeof e !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(e))) {
    throw new InvalidArgumentError('events', 'expected a non-empty array of lower-case event names such as ["expired"]');
  }
  const channel = o.channel ?? 'keyevent';
  if (channel !== 'keyevent' && channel !== 'keyspace') throw new InvalidArgumentError('channel', `expected 'keyevent' or 'keyspace', got ${describe(channel)}`);
  const keyPattern = o.keyPattern ?? '*';
  if (typeof keyPattern !== 'string' || keyPattern.length === 0) throw new InvalidArgumentError('keyPattern', 'expected a non-empty glob');
  if (o.keyPattern !== undefined && channel !== 'keyspace') throw new InvalidArgumentError('keyPattern', "only applies with channel: 'keyspace'");
  const config = o.config ?? 'verify';
  if (config !== 'verify' && config !== 'enable' && config !== 'skip') throw new InvalidArgumentError('config', `expected 'verify', 'enable' or 'skip', got ${describe(config)}`);
  const classes = new Set(events.map((e) => CLASS[e] ?? 'A'));
  const flags = (channel === 'keyevent' ? 'E' : 'K') + [...classes].join('');
  const channels = channel === 'keyevent' ? events.map((e) => `__keyevent@0__:${e}`) : [`__keyspace@0__:${keyPattern}`];
  return { events, channel, keyPattern, config, flags, channels };
}

/** Flags of `wanted` that `current` (a notify-keyspace-events value) lacks. */
export function missingFlags(current: string, wanted: string): string {
  const has = (f: string) => current.includes(f) || (f === 'A' ? [...ALL].every((c) => current.includes(c)) : ALL.includes(f) && current.includes('A'));
  return [...wanted].filter((f) => !has(f)).join('');
}

/**
 * Keyspace notifications are emitted by each node for its own keys only and
 * never travel the cluster bus, so this subscribes on EVERY master, follows
 * masters as they change (failover, new shards) and reports the windows in
 * which a master's events could not be received as gaps.
 */
export class KeyspaceSubscription {
  readonly #router: Router;
  readonly #opts: ResolvedKeyspace;
  readonly #handler: (e: KeyspaceEvent) => void;
  readonly #gap: (g: GapEvent) => void;
  readonly #error: (e: Error) => void;
  readonly #nodes = new Map<string, NodeSubscriber>();
  /** A master was lost: the gap closes once every current master is live. */
  #lostSince: number | undefined;
  #closed = false;

  constructor(router: Router, opts: ResolvedKeyspace, handler: (e: KeyspaceEvent) => void, gap: (g: GapEvent) => void, error: (e: Error) => void) {
    this.#router = router;
    this.#opts = opts;
    this.#handler = handler;
    this.#gap = gap;
    this.#error = error;
  }

  /** Checks (or enables) the server setting, then subscribes on every master. */
  async start(): Promise<void> {
    const router = this.#router;
    await router.ready();
    await this.#configure(this.#opts.config === 'enable' ? router.nodes('all') : router.nodes('master'));
    const snap = router.current!;
    await Promise.all(snap.shards.map((s) => this.#subscribeOn(s.master.address)));
  }

  onTopology(snap: TopologySnapshot): void {
    if (this.#closed) return;
    const masters = new Set(snap.shards.map((s) => s.master.address));
    for (const [address, sub] of this.#nodes) {
      if (masters.has(address)) {
        sub.onTopology(snap);
        continue;
      }
      const since = sub.lostSince ?? Date.now();
      this.#lostSince = Math.min(this.#lostSince ?? since, since);
      this.#nodes.delete(address);
      void sub.close();
    }
    for (const address of masters) {
      if (this.#nodes.has(address)) continue;
      const node = this.#router.nodes('master').find((n) => n.address === address);
      const configured = node && this.#opts.config !== 'skip' ? this.#configure([node]) : Promise.resolve();
      configured
        .then(() => this.#subscribeOn(address))
        .then(() => this.#closeGap(), (err: Error) => this.#error(err));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const subs = [...this.#nodes.values()];
    this.#nodes.clear();
    await Promise.all(subs.map((s) => s.close()));
  }

  async #configure(nodes: readonly { address: string; call(name: string, ...args: string[]): Promise<unknown> }[]): Promise<void> {
    if (this.#opts.config === 'skip') return;
    await Promise.all(nodes.map(async (n) => {
      const reply = await n.call('config', 'get', 'notify-keyspace-events');
      const current = configValue(reply);
      const missing = missingFlags(current, this.#opts.flags);
      if (missing === '') return;
      if (this.#opts.config === 'verify') throw new KeyspaceNotificationsDisabledError(n.address, current, missing);
      await n.call('config', 'set', 'notify-keyspace-events', current + missing);
    }));
  }

  async #subscribeOn(address: string): Promise<void> {
    if (this.#closed || this.#nodes.has(address)) return;
    const keyspacePrefix = '__keyspace@0__:';
    const sub = new NodeSubscriber({
      router: this.#router,
      pick: (snap) => {
        const n = snap.node(address);
        return n?.role === 'master' ? n : undefined;
      },
      accepts: (snap, a) => snap.node(a)?.role === 'master',
      dispatch: (_kind, channel, message, _pattern, from) => {
        if (this.#opts.channel === 'keyevent') {
          this.#handler({ event: channel.slice(channel.indexOf(':') + 1), key: message, address: from });
        } else if (this.#opts.events.includes(message)) {
          this.#handler({ event: message, key: channel.slice(keyspacePrefix.length), address: from });
        }
      },
      gap: (g) => this.#gap({ ...g, kind: 'keyspace' }),
      error: this.#error,
    });
    this.#nodes.set(address, sub);
    const kind = this.#opts.channel === 'keyevent' ? 'subscribe' : 'psubscribe';
    await sub.add(kind, this.#opts.channels, this.#router.options.commandTimeoutMs);
  }

  #closeGap(): void {
    const since = this.#lostSince;
    if (since === undefined || this.#closed) return;
    if (![...this.#nodes.values()].every((s) => s.allLive)) return;
    this.#lostSince = undefined;
    const to = Date.now();
    for (const channel of this.#opts.channels) this.#gap({ kind: 'keyspace', channel, from: since, to, reason: 'moved', address: 'every master' });
  }
}

/** CONFIG GET replies `[name, value]` (RESP2) or `{ name: value }` (RESP3). */
function configValue(reply: unknown): string {
  if (Array.isArray(reply)) return String(reply[1] ?? '');
  if (reply && typeof reply === 'object') return String(Object.values(reply)[0] ?? '');
  return '';
}
