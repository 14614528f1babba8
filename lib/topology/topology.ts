import { AuthError, TlsError, TopologyError } from '../errors.js';
import { formatAddress, type HostPort } from '../core/addresses.js';
import type { ResolvedOptions } from '../options.js';
import { chooseView, fingerprintOf, type NodeAnswer } from './consensus.js';
import { TopologySnapshot, type AddressMapper } from './snapshot.js';

/** What the topology needs from the layer that owns connections. */
export interface TopologyDeps {
  readonly options: ResolvedOptions;
  readonly map: AddressMapper;
  /** Asks one node for its view (CLUSTER SHARDS + its epoch). */
  query(address: string, host: string, port: number): Promise<NodeAnswer>;
  /** A new snapshot replaced `prev`. */
  onSnapshot(prev: TopologySnapshot | undefined, next: TopologySnapshot, reason: string): void;
  /**
   * Asks the discovery provider for fresh seeds; called when no node of the
   * map or the seeds answered (the whole cluster may have moved).
   */
  discover?(): Promise<readonly HostPort[]>;
  /** Wraps each refresh (telemetry: the `slotwise:refresh` TracingChannel). */
  traceRefresh?<T>(reason: string, run: () => Promise<T>): Promise<T>;
  /** A refresh finished (for diagnostics). */
  onRefresh?(info: { reason: string; durationMs: number; asked: number; votes: number; dissent: number; changed: boolean; error?: Error }): void;
}

/** After this long in a degraded state, polling slows down to DEGRADED_SLOW_MS. */
const DEGRADED_FAST_FOR_MS = 10_000;
const DEGRADED_SLOW_MS = 1000;

/**
 * Owns the current TopologySnapshot and keeps it true: single-flight
 * refreshes by consensus, MOVED patches, a cheap periodic check, and close
 * polling while a slot-serving node is unreachable so failovers are seen
 * within `degradedRefreshIntervalMs` of the promotion.
 */
export class Topology {
  readonly #deps: TopologyDeps;
  #seeds: readonly HostPort[];
  /** Seeds from discovery share no node with the map: ask them first (the cluster moved). */
  #seedsFirst = false;
  #current: TopologySnapshot | undefined;
  #version = 0;
  #inFlight: Promise<TopologySnapshot> | undefined;
  #followUp: Promise<TopologySnapshot> | undefined;
  #again = false;
  #lastRefreshAt = 0;
  #scheduled: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #degradedTimer: NodeJS.Timeout | undefined;
  #degradedSince = 0;
  #unreachable = new Set<string>();
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;
  #stopped = false;
  #lastError: Error | undefined;
  /** A TLS or login refusal seen during the current refresh. */
  #refused: Error | undefined;

  constructor(seeds: readonly HostPort[], deps: TopologyDeps) {
    this.#seeds = seeds;
    this.#deps = deps;
  }

  get current(): TopologySnapshot | undefined {
    return this.#current;
  }

  /** The error of the last failed refresh, if the last one failed. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Discovers the cluster for the first time and starts the periodic check. */
  async start(): Promise<TopologySnapshot> {
    const snap = await this.refresh('connect');
    this.#schedulePeriodic();
    return snap;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#scheduled);
    clearTimeout(this.#periodic);
    clearTimeout(this.#degradedTimer);
    this.#scheduled = this.#periodic = this.#degradedTimer = undefined;
    this.#wake();
  }

  /** Resolves on the next snapshot change (or stop). */
  nextChange(): Promise<void> {
    this.#changed ??= (() => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    })();
    return this.#changed.promise;
  }

  #wake(): void {
    const c = this.#changed;
    this.#changed = undefined;
    c?.resolve();
  }

  /**
   * Refreshes now, single-flight. The promise resolves with a view read
   * AFTER this call: a caller arriving mid-refresh (whose trigger may
   * postdate what the running one asked) shares the one follow-up refresh
   * that starts as soon as the running one ends, not the running one.
   */
  refresh(reason: string): Promise<TopologySnapshot> {
    if (this.#inFlight) {
      this.#followUp ??= this.#inFlight.catch(() => undefined).then(() => {
        this.#followUp = undefined;
        this.#again = false;
        return this.refresh(reason);
      });
      return this.#followUp;
    }
    const trace = this.#deps.traceRefresh;
    const run = (trace === undefined ? this.#refreshOnce(reason) : trace(reason, () => this.#refreshOnce(reason))).finally(() => {
      this.#inFlight = undefined;
      this.#lastRefreshAt = Date.now();
      if (this.#again && !this.#stopped && this.#followUp === undefined) {
        this.#again = false;
        this.requestRefresh('queued');
      }
    });
    this.#inFlight = run;
    return run;
  }

  /** Refresh soon, in the background, at most once per `minRefreshGapMs`. */
  requestRefresh(reason: string): void {
    if (this.#stopped) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    if (this.#scheduled) return;
    const wait = Math.max(0, this.#lastRefreshAt + this.#deps.options.minRefreshGapMs - Date.now());
    this.#scheduled = setTimeout(() => {
      this.#scheduled = undefined;
      this.refresh(reason).catch(() => undefined);
    }, wait);
    this.#scheduled.unref();
  }

  /** A MOVED: serve `slot` from `target` at once; confirm with a background refresh. */
  patchMoved(slot: number, target: HostPort, address: string): void {
    const cur = this.#current;
    if (!cur) return;
    const next = cur.withSlotMoved(slot, target, address, this.#version + 1);
    if (next !== cur) this.#install(next, 'moved');
    this.requestRefresh('moved');
  }

  /**
   * Acts on a MOVED/ASK answered by the node at `fromHost`: a MOVED patches
   * the map, an ASK naming a node outside the map schedules a refresh.
   * Returns the target as this process reaches it (natMap applied; an empty
   * host in the redirect means `fromHost`).
   */
  followRedirect(kind: 'moved' | 'ask', slot: number, host: string, port: number, fromHost: string): HostPort & { readonly address: string } {
    const to = host === '' ? { host: fromHost, port } : this.#deps.map(host, port);
    const address = formatAddress(to.host, to.port);
    if (kind === 'moved') this.patchMoved(slot, to, address);
    else if (this.#current?.node(address) === undefined) this.requestRefresh('ask-unknown-node');
    return { host: to.host, port: to.port, address };
  }

  /**
   * New seeds from a discovery provider. When none of them is in the map,
   * the cluster was rebuilt elsewhere: refresh now, asking them first, so
   * the client follows before the old nodes go away.
   */
  setSeeds(seeds: readonly HostPort[]): void {
    this.#seeds = seeds;
    const cur = this.#current;
    if (cur && seeds.length > 0 && !seeds.some((s) => cur.node(formatAddress(s.host, s.port)) !== undefined)) {
      this.#seedsFirst = true;
      this.refresh('discovery').catch(() => undefined);
    }
  }

  /** The node's reachability changed; drives close polling while degraded. */
  setUnreachable(address: string, unreachable: boolean): void {
    const had = this.#unreachable.has(address);
    if (unreachable === had) return;
    if (unreachable) {
      this.#unreachable.add(address);
      this.requestRefresh('unreachable');
    } else {
      this.#unreachable.delete(address);
    }
    this.#updateDegraded();
  }

  async #refreshOnce(reason: string): Promise<TopologySnapshot> {
    const started = Date.now();
    const candidates = this.#candidates();
    const size = this.#deps.options.topologySampleSize;
    const errors: Record<string, string> = {};
    let asked = candidates.slice(0, size);
    let answers = await this.#ask(asked, errors);
    if (answers.length === 0 && candidates.length > size) {
      asked = candidates.slice(size);
      answers = await this.#ask(asked, errors);
    }
    if (answers.length === 0 && this.#deps.discover) {
      asked = await this.#rediscover(candidates, errors);
      answers = await this.#ask(asked, errors);
    }
    const choice = chooseView(answers);
    const refused = this.#refused;
    this.#refused = undefined;
    if (!choice && refused !== undefined) {
      this.#lastError = refused;
      this.#deps.onRefresh?.({ reason, durationMs: Date.now() - started, asked: candidates.length, votes: 0, dissent: 0, changed: false, error: refused });
      this.#updateDegraded();
      throw refused;
    }
    if (!choice) {
      const error = new TopologyError(
        `No cluster node answered a topology query (asked ${Object.keys(errors).join(', ')})`,
        errors,
      );
      this.#lastError = error;
      this.#deps.onRefresh?.({ reason, durationMs: Date.now() - started, asked: candidates.length, votes: 0, dissent: 0, changed: false, error });
      this.#updateDegraded();
      throw error;
    }
    this.#lastError = undefined;
    this.#seedsFirst = false;
    const changed = this.#current?.fingerprint !== choice.fingerprint;
    if (changed) {
      this.#install(TopologySnapshot.fromViews(choice.answer.shards, this.#deps.map, this.#version + 1, choice.fingerprint), reason);
    }
    this.#deps.onRefresh?.({ reason, durationMs: Date.now() - started, asked: asked.length, votes: choice.votes, dissent: choice.dissent, changed });
    this.#updateDegraded();
    return this.#current!;
  }

  /** Fresh seeds from the provider that were not just asked (a provider failure is recorded as one more error). */
  async #rediscover(asked: readonly HostPort[], errors: Record<string, string>): Promise<HostPort[]> {
    try {
      this.#seeds = await this.#deps.discover!();
    } catch (err) {
      errors['discovery'] = (err as Error).message;
      return [];
    }
    const seen = new Set(asked.map((n) => formatAddress(n.host, n.port)));
    return this.#seeds.filter((s) => !seen.has(formatAddress(s.host, s.port)));
  }

  /** Asks nodes in parallel; returns early once a majority of the asked agree. */
  #ask(nodes: readonly HostPort[], errors: Record<string, string>): Promise<NodeAnswer[]> {
    return new Promise((resolve) => {
      const answers: NodeAnswer[] = [];
      const votes = new Map<string, number>();
      const majority = Math.floor(nodes.length / 2) + 1;
      let pending = nodes.length;
      let done = false;
      const settled = new Set<string>();
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(answers);
      };
      const timer = setTimeout(() => {
        // Name the nodes still silent, so "nobody answered" lists whom it asked.
        const ms = this.#deps.options.topologyQueryTimeoutMs;
        for (const n of nodes) {
          const address = formatAddress(n.host, n.port);
          if (!settled.has(address)) errors[address] ??= `no answer within topologyQueryTimeoutMs (${ms} ms)`;
        }
        finish();
      }, this.#deps.options.topologyQueryTimeoutMs);
      if (pending === 0) finish();
      for (const n of nodes) {
        const address = formatAddress(n.host, n.port);
        this.#deps.query(address, n.host, n.port).then(
          (answer) => {
            settled.add(address);
            if (done) return;
            answers.push(answer);
            const fp = fingerprintOf(answer.shards);
            const v = (votes.get(fp) ?? 0) + 1;
            votes.set(fp, v);
            if (v >= majority) finish();
          },
          (err: Error) => {
            settled.add(address);
            if (done) return;
            errors[address] = err.message;
            // A refused TLS handshake or login says more than "nobody answered": keep it to report.
            if (err instanceof AuthError || err instanceof TlsError) this.#refused ??= err;
          },
        ).finally(() => {
          if (--pending === 0) finish();
        });
      }
    });
  }

  /**
   * Nodes to ask, best first: replicas of unreachable masters (during a
   * failover the promoted one knows first, with the newest epoch), reachable
   * masters, reachable replicas, unreachable nodes, then seeds not in the map.
   * Shuffled within each group so one slow node does not answer every time.
   */
  #candidates(): HostPort[] {
    const cur = this.#current;
    const seen = new Set<string>();
    const groups: HostPort[][] = [[], [], [], [], []];
    const add = (address: string, hp: HostPort, group: number) => {
      if (seen.has(address)) return;
      seen.add(address);
      groups[this.#unreachable.has(address) ? 3 : group]!.push(hp);
    };
    if (cur) {
      for (const s of cur.shards) {
        if (this.#unreachable.has(s.master.address)) for (const r of s.replicas) if (r.health !== 'failed') add(r.address, r, 0);
      }
      for (const n of cur.nodes()) if (n.health !== 'failed') add(n.address, n, n.role === 'master' ? 1 : 2);
      for (const n of cur.nodes()) if (n.health === 'failed') add(n.address, n, 3);
    }
    const seeds: HostPort[] = [];
    for (const s of this.#seeds) {
      const address = formatAddress(s.host, s.port);
      if (!seen.has(address)) {
        seen.add(address);
        seeds.push(s);
      }
    }
    const known = groups.flatMap(shuffle);
    return this.#seedsFirst ? [...shuffle(seeds), ...known] : [...known, ...shuffle(seeds)];
  }

  #install(next: TopologySnapshot, reason: string): void {
    const prev = this.#current;
    this.#version = next.version;
    this.#current = next;
    this.#deps.onSnapshot(prev, next, reason);
    this.#wake();
  }

  #schedulePeriodic(): void {
    const every = this.#deps.options.topologyRefreshIntervalMs;
    if (every === 0 || this.#stopped) return;
    this.#periodic = setTimeout(() => {
      this.#periodic = undefined;
      this.#check()
        .catch(() => undefined)
        .finally(() => this.#schedulePeriodic());
    }, every);
    this.#periodic.unref();
  }

  /** The periodic check: one node's fingerprint; a full refresh only if it differs. */
  async #check(): Promise<void> {
    const cur = this.#current;
    const first = this.#candidates()[0];
    if (!cur || !first || cur.fingerprint === '') {
      await this.refresh('periodic');
      return;
    }
    const answer = await this.#deps.query(formatAddress(first.host, first.port), first.host, first.port);
    if (fingerprintOf(answer.shards) !== cur.fingerprint) await this.refresh('periodic');
  }

  /**
   * Degraded: a slot-serving master is unreachable, slots are uncovered, or
   * the last refresh failed. Then poll closely (slowing after a while).
   */
  #updateDegraded(): void {
    const cur = this.#current;
    let degraded = this.#lastError !== undefined || (cur !== undefined && cur.uncoveredSlots() > 0);
    if (!degraded && cur) {
      for (const s of cur.shards) {
        if (this.#unreachable.has(s.master.address) && cur.ranges(s.index).length > 0) {
          degraded = true;
          break;
        }
      }
    }
    if (!degraded || this.#stopped) {
      this.#degradedSince = 0;
      clearTimeout(this.#degradedTimer);
      this.#degradedTimer = undefined;
      return;
    }
    if (this.#degradedSince === 0) this.#degradedSince = Date.now();
    if (this.#degradedTimer) return;
    const slow = Date.now() - this.#degradedSince > DEGRADED_FAST_FOR_MS;
    this.#degradedTimer = setTimeout(() => {
      this.#degradedTimer = undefined;
      this.refresh('degraded').catch(() => undefined);
    }, slow ? Math.max(DEGRADED_SLOW_MS, this.#deps.options.degradedRefreshIntervalMs) : this.#deps.options.degradedRefreshIntervalMs);
    this.#degradedTimer.unref();
  }
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
