import { performance } from 'node:perf_hooks';

/** How a grant is stored: a hash with an owner field ('h'), a reentrant hash with one field per hold ('r') or a member of a holders zset ('z'). */
export type GrantKind = 'h' | 'r' | 'z';

/**
 * The local view of one grant's lease, shared by its handle and the
 * watchdog. Times are `performance.now()` (monotonic): wall-clock jumps on
 * this machine cannot stretch a lease.
 */
export class Lease {
  readonly key: string;
  readonly slot: number;
  readonly kind: GrantKind;
  readonly owner: string;
  readonly driftFactor: number;
  readonly renewRatio: number;
  leaseMs: number;
  /** Renew in the background. */
  autoExtend: boolean;
  /** Until when the grant is certainly still ours (monotonic ms). */
  validUntil = 0;
  /** When the watchdog should renew next (monotonic ms). */
  renewAt = Infinity;
  /** A renewal is on the wire. */
  renewing = false;
  /** Last renewal error, kept for the LockLostError's cause. */
  lastError: unknown;
  /** Called by the watchdog when the lease is lost; set by the handle. */
  onLost: (reason: 'expired' | 'gone', cause?: unknown) => void = () => undefined;

  constructor(init: { key: string; slot: number; kind: GrantKind; owner: string; leaseMs: number; driftFactor: number; renewRatio: number; autoExtend: boolean }) {
    this.key = init.key;
    this.slot = init.slot;
    this.kind = init.kind;
    this.owner = init.owner;
    this.leaseMs = init.leaseMs;
    this.driftFactor = init.driftFactor;
    this.renewRatio = init.renewRatio;
    this.autoExtend = init.autoExtend;
  }

  /**
   * The server (re)started the lease no earlier than `sentAt`: it is valid
   * here until `sentAt + lease − drift`, counting from when the request left
   * (the server may have applied it any time after that).
   */
  confirmed(sentAt: number, leaseMs = this.leaseMs): void {
    this.leaseMs = leaseMs;
    this.validUntil = sentAt + leaseMs - Math.ceil(leaseMs * this.driftFactor) - 2;
    this.renewAt = this.autoExtend ? sentAt + leaseMs * this.renewRatio : Infinity;
  }

  /** Milliseconds of certain validity left (0 when none). */
  remainingMs(now = performance.now()): number {
    return Math.max(0, Math.floor(this.validUntil - now));
  }
}
