import { SLOT_COUNT } from '../core/slots.js';
import { formatAddress, type HostPort } from '../core/addresses.js';
import type { NodeHealth, ShardView } from './parse.js';

/** A node of the map, with the address this process uses (after natMap). */
export interface NodeDescriptor {
  /** Cluster node id ('' when only known from a redirect). */
  readonly id: string;
  /** `host:port` used to connect (mapped). */
  readonly address: string;
  /** Host part of `address`. */
  readonly host: string;
  /** Port part of `address`. */
  readonly port: number;
  /** Its role in the shard. */
  readonly role: 'master' | 'replica';
  /** Its health as the cluster reports it. */
  readonly health: NodeHealth;
  /** `host:port` the cluster announced, before mapping. */
  readonly announced: string;
  /** The host name the node announced (`cluster-announce-hostname`), if any. */
  readonly hostname?: string;
}

/** A master and its replicas. */
export interface Shard {
  /** Position of the shard in `snapshot.shards`. */
  readonly index: number;
  /** The shard's master. */
  readonly master: NodeDescriptor;
  /** Its replicas. */
  readonly replicas: readonly NodeDescriptor[];
}

/** Marks a slot no shard serves. */
const NONE = 0xffff;

export type AddressMapper = (host: string, port: number) => HostPort;

/**
 * One immutable view of the cluster: which shard serves each slot
 * (Uint16Array(16384) of shard indexes) and what each shard is made of.
 * Changes produce a new snapshot; readers never see a half-applied update.
 */
export class TopologySnapshot {
  /** Increases by one with every snapshot that replaced another. */
  readonly version: number;
  /** Every shard with its master and replicas. */
  readonly shards: readonly Shard[];
  /** Canonical description of the views it was built from ('' after a patch). */
  readonly fingerprint: string;
  /** `Date.now()` when it was made. */
  readonly createdAt: number;
  readonly #slots: Uint16Array;
  readonly #byAddress: ReadonlyMap<string, NodeDescriptor>;

  private constructor(version: number, shards: readonly Shard[], slots: Uint16Array, fingerprint: string) {
    this.version = version;
    this.shards = shards;
    this.#slots = slots;
    this.fingerprint = fingerprint;
    this.createdAt = Date.now();
    const byAddress = new Map<string, NodeDescriptor>();
    for (const s of shards) {
      byAddress.set(s.master.address, s.master);
      for (const r of s.replicas) if (!byAddress.has(r.address)) byAddress.set(r.address, r);
    }
    this.#byAddress = byAddress;
  }

  /** Builds a snapshot from shard views, applying the address mapper. */
  static fromViews(views: readonly ShardView[], map: AddressMapper, version: number, fingerprint: string): TopologySnapshot {
    const slots = new Uint16Array(SLOT_COUNT).fill(NONE);
    const shards: Shard[] = [];
    for (const view of views) {
      const index = shards.length;
      const describe = (n: ShardView['master'], role: 'master' | 'replica'): NodeDescriptor => {
        const mapped = map(n.host, n.port);
        return Object.freeze({
          id: n.id,
          address: formatAddress(mapped.host, mapped.port),
          host: mapped.host,
          port: mapped.port,
          role,
          health: n.health,
          announced: formatAddress(n.host, n.port),
          ...(n.hostname ? { hostname: n.hostname } : {}),
        });
      };
      shards.push(Object.freeze({
        index,
        master: describe(view.master, 'master'),
        replicas: Object.freeze(view.replicas.map((r) => describe(r, 'replica'))),
      }));
      for (const [start, end] of view.ranges) {
        for (let s = Math.max(0, start); s <= Math.min(SLOT_COUNT - 1, end); s++) slots[s] = index;
      }
    }
    return new TopologySnapshot(version, Object.freeze(shards), slots, fingerprint);
  }

  /** The shard serving a slot, or undefined when the slot is uncovered. */
  shardOf(slot: number): Shard | undefined {
    const i = this.#slots[slot]!;
    return i === NONE ? undefined : this.shards[i];
  }

  /** Every node of the map by its (mapped) address. */
  node(address: string): NodeDescriptor | undefined {
    return this.#byAddress.get(address);
  }

  /** Every node of the map (masters first). */
  nodes(): NodeDescriptor[] {
    return [...this.#byAddress.values()];
  }

  /** Number of slots no shard serves. */
  uncoveredSlots(): number {
    let n = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (this.#slots[s] === NONE) n++;
    return n;
  }

  /** Inclusive slot ranges served by a shard. */
  ranges(shardIndex: number): [number, number][] {
    const out: [number, number][] = [];
    let start = -1;
    for (let s = 0; s <= SLOT_COUNT; s++) {
      const mine = s < SLOT_COUNT && this.#slots[s] === shardIndex;
      if (mine && start === -1) start = s;
      else if (!mine && start !== -1) {
        out.push([start, s - 1]);
        start = -1;
      }
    }
    return out;
  }

  /**
   * A copy where `slot` is served by the master at `address` (a MOVED).
   * Returns this snapshot when nothing changes. An address that is no master
   * of the map becomes a provisional shard until the next refresh describes it.
   */
  withSlotMoved(slot: number, target: HostPort, address: string, version: number): TopologySnapshot {
    const current = this.shardOf(slot);
    if (current?.master.address === address) return this;
    let index = this.shards.findIndex((s) => s.master.address === address);
    let shards = this.shards;
    if (index === -1) {
      index = shards.length;
      const master: NodeDescriptor = Object.freeze({
        id: '', address, host: target.host, port: target.port, role: 'master', health: 'unknown', announced: address,
      });
      shards = Object.freeze([...shards, Object.freeze({ index, master, replicas: Object.freeze([]) })]);
    }
    const slots = this.#slots.slice();
    slots[slot] = index;
    return new TopologySnapshot(version, shards, slots, '');
  }
}
