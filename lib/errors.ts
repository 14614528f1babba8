/**
 * Every error slotwise raises. One base class with a stable `code`, so callers
 * (and slotwise's own retry loop) decide from fields, never from message text.
 * The list of codes is documented in docs/10-errors.md.
 */

/** Context carried by every slotwise error. All fields are optional. */
export interface ErrorContext {
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
  /** `host:port` of the node involved. */
  address?: string;
  /** Hash slot (0–16383) involved. */
  slot?: number;
  /** Upper-case command name involved. */
  command?: string;
}

/** Base class of every error slotwise throws. */
export class SlotwiseError extends Error {
  /** Stable machine-readable code, e.g. `ERR_SLOTWISE_TIMEOUT`. */
  readonly code: string;
  /** `host:port` of the node involved, when one was. */
  readonly address?: string;
  /** Hash slot (0–16383) involved, when one was. */
  readonly slot?: number;
  /** Upper-case name of the command involved, when one was. */
  readonly command?: string;

  constructor(message: string, code: string, ctx: ErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.code = code;
    if (ctx.address !== undefined) this.address = ctx.address;
    if (ctx.slot !== undefined) this.slot = ctx.slot;
    if (ctx.command !== undefined) this.command = ctx.command;
  }

  /** The class name, e.g. `TimeoutError` (so stack traces and logs name the subclass). */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * An error reply from a Redis server (`-ERR …`, `-WRONGTYPE …`). `prefix` is
 * the first word of the reply, `reply` the whole text, unchanged.
 */
export class RedisReplyError extends SlotwiseError {
  /** First word of the reply, e.g. `WRONGTYPE` or `ERR`: decide on this, not on the text. */
  readonly prefix: string;
  /** The whole reply text, unchanged. */
  readonly reply: string;
  constructor(reply: string, ctx: ErrorContext = {}) {
    super(reply, 'ERR_SLOTWISE_REPLY', ctx);
    this.reply = reply;
    this.prefix = reply.split(' ', 1)[0] ?? '';
  }
}

/** Keys of one command (or transaction/script) hash to more than one slot. */
export class CrossSlotError extends SlotwiseError {
  /** Distinct slots the keys hash to. */
  readonly slots: readonly number[];
  constructor(message: string, slots: readonly number[], ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_CROSSSLOT', ctx);
    this.slots = slots;
  }
}

/** The connection to a node failed or closed while a command was pending. */
export class ConnectionError extends SlotwiseError {
  /** True when the command's bytes may have reached the server before the loss. */
  readonly maybeSent: boolean;
  constructor(message: string, ctx: ErrorContext & { maybeSent?: boolean } = {}) {
    super(message, 'ERR_SLOTWISE_CONNECTION', ctx);
    this.maybeSent = ctx.maybeSent ?? false;
  }
}

/**
 * A node refused the credentials (WRONGPASS, NOAUTH, a disabled user), or the
 * `credentialsProvider` failed. Never retried in a loop: with a provider, a
 * WRONGPASS on connect asks the provider once more, then fails with this.
 * The message names the node, the user and the server's reason — never a password.
 */
export class AuthError extends SlotwiseError {
  /** ACL user that was tried (`default` when none was given). */
  readonly username: string;
  /** What went wrong: the server's reply prefix (`WRONGPASS`, `NOAUTH`, `NOPERM`) or `PROVIDER` when the provider failed. */
  readonly reason: string;
  constructor(message: string, username: string, reason: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_AUTH', ctx);
    this.username = username;
    this.reason = reason;
  }
}

/**
 * The TLS handshake with a node failed: its certificate did not verify
 * (unknown CA, wrong name, expired), or it rejected ours (no client
 * certificate, unknown CA). Not retried: the same handshake fails again.
 */
export class TlsError extends SlotwiseError {
  /** Node.js / OpenSSL code of the failure, e.g. `ERR_TLS_CERT_ALTNAME_INVALID`, `SELF_SIGNED_CERT_IN_CHAIN`, `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`. */
  readonly reason: string;
  constructor(message: string, reason: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_TLS', ctx);
    this.reason = reason;
  }
}

/** A command did not complete within its deadline (`commandTimeoutMs`). */
export class TimeoutError extends SlotwiseError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_TIMEOUT', ctx);
    this.timeoutMs = timeoutMs;
  }
}

/** The cluster's topology could not be discovered or is unusable. */
export class TopologyError extends SlotwiseError {
  /** Last error seen from each node asked, by `host:port`. */
  readonly nodeErrors: Readonly<Record<string, string>>;
  constructor(message: string, nodeErrors: Record<string, string> = {}, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_TOPOLOGY', ctx);
    this.nodeErrors = Object.freeze({ ...nodeErrors });
  }
}

/**
 * A command kept being redirected (MOVED/ASK chains longer than
 * `maxRedirections`, without a cycle) until its deadline.
 */
export class MaxRedirectionsError extends SlotwiseError {
  /** How many MOVED/ASK redirections were followed before giving up. */
  readonly redirections: number;
  constructor(redirections: number, ctx: ErrorContext = {}) {
    super(`Too many cluster redirections (${redirections}) for ${ctx.command ?? 'command'}`, 'ERR_SLOTWISE_MAX_REDIRECTIONS', ctx);
    this.redirections = redirections;
  }
}

/**
 * A slot's redirects went round in a circle (A answers `ASK B`, B answers
 * `MOVED A`, or any A→B→A) until the command's deadline: its migration lost
 * one side, typically because the IMPORTING or MIGRATING master failed over
 * mid-reshard (the migration state is not replicated). Keys already moved
 * cannot be read until the slot is repaired; the message says how.
 */
export class SlotMigrationStuckError extends SlotwiseError {
  /** The node that redirected first (for ASK: the MIGRATING one). */
  readonly source: string;
  /** The node it redirected to, which sent the command back. */
  readonly target: string;
  /** `Date.now()` when this client first saw the loop. */
  readonly since: number;
  constructor(slot: number, source: string, target: string, since: number, ctx: ErrorContext = {}) {
    super(
      `Slot ${slot} is stuck mid-migration between ${source} and ${target} (redirects loop between them) since ${new Date(since).toISOString()}. ` +
        `Repair it: redis-cli --cluster fix ${source}  (or: slotwise cluster fix --port ${source.slice(source.lastIndexOf(':') + 1)} --host ${source.slice(0, source.lastIndexOf(':'))})`,
      'ERR_SLOTWISE_SLOT_MIGRATION_STUCK',
      { ...ctx, slot, address: source },
    );
    this.source = source;
    this.target = target;
    this.since = since;
  }
}

/** The circuit breaker of a node is open: commands to it fail fast. */
export class CircuitOpenError extends SlotwiseError {
  constructor(address: string, ctx: ErrorContext = {}) {
    super(`Circuit breaker for ${address} is open; failing fast`, 'ERR_SLOTWISE_CIRCUIT_OPEN', { ...ctx, address });
  }
}

/** A dedicated connection could not be acquired from a node's pool. */
export class PoolError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_POOL', ctx);
  }
}

/** A server sent something slotwise refuses to act on (e.g. a malformed MOVED). */
export class ProtocolError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_PROTOCOL', ctx);
  }
}

/** The client was closed (`quit()`/`disconnect()`) before the command ran. */
export class ClientClosedError extends SlotwiseError {
  constructor(message = 'The client is closed', ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_CLIENT_CLOSED', ctx);
  }
}

/** A bounded wait queue (commands waiting for connect or a node) is full. */
export class QueueFullError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_QUEUE_FULL', ctx);
  }
}

/** Bad input: an option, argument or call that cannot be honoured. Nothing was sent. */
export class InvalidArgumentError extends SlotwiseError {
  /** Name of the option or argument that was wrong. */
  readonly argument: string;
  constructor(argument: string, message: string, ctx: ErrorContext = {}) {
    super(`Invalid ${argument}: ${message}`, 'ERR_SLOTWISE_INVALID_ARGUMENT', ctx);
    this.argument = argument;
  }
}

/** The command name is not a known Redis command. Nothing was sent. */
export class UnknownCommandError extends SlotwiseError {
  constructor(command: string) {
    super(`Unknown Redis command "${command}"`, 'ERR_SLOTWISE_UNKNOWN_COMMAND', { command });
  }
}

/** A WATCHed transaction was aborted (a watched key changed, or its slot moved). */
export class WatchConflictError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_WATCH_CONFLICT', ctx);
  }
}

/** The cluster engine (testcontainers/) failed to start or change the cluster. */
export class ClusterEngineError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_ENGINE', ctx);
  }
}

/** No usable `redis-server` binary (≥ 7) was found. */
export class RedisServerNotFoundError extends SlotwiseError {
  constructor(message: string) {
    super(message, 'ERR_SLOTWISE_REDIS_SERVER_NOT_FOUND');
  }
}

/** A lock could not be acquired: someone else holds it. */
export class LockNotAcquiredError extends SlotwiseError {
  /** Remaining lease of the current holder in ms (-1 when unknown). */
  readonly remainingMs: number;
  constructor(name: string, remainingMs: number, ctx: ErrorContext = {}) {
    super(`Lock "${name}" is held by another owner (remaining lease ${remainingMs} ms)`, 'ERR_SLOTWISE_LOCK_NOT_ACQUIRED', ctx);
    this.remainingMs = remainingMs;
  }
}

/** A held lock's lease was lost (expired, or taken after expiry). */
export class LockLostError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_LOCK_LOST', ctx);
  }
}

/** A lock was granted but not replicated to enough replicas; it was released. */
export class LockNotReplicatedError extends SlotwiseError {
  /** Replicas the lock had to reach. */
  readonly wanted: number;
  /** Replicas that acknowledged the lock in time. */
  readonly acknowledged: number;
  constructor(name: string, wanted: number, acknowledged: number, ctx: ErrorContext = {}) {
    super(`Lock "${name}" reached ${acknowledged} of ${wanted} replicas; released`, 'ERR_SLOTWISE_LOCK_NOT_REPLICATED', ctx);
    this.wanted = wanted;
    this.acknowledged = acknowledged;
  }
}

/** A fenced write carried a token older than the newest one seen. */
export class FencingTokenRejectedError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_FENCING_REJECTED', ctx);
  }
}

/** A write was not acknowledged by the requested number of replicas (WAIT). */
export class NotReplicatedError extends SlotwiseError {
  /** Replicas the write had to reach. */
  readonly wanted: number;
  /** Replicas that acknowledged the write in time. */
  readonly acknowledged: number;
  constructor(message: string, wanted: number, acknowledged: number, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_NOT_REPLICATED', ctx);
    this.wanted = wanted;
    this.acknowledged = acknowledged;
  }
}

/** True for any error slotwise raised. */
export function isSlotwiseError(err: unknown): err is SlotwiseError {
  return err instanceof SlotwiseError;
}

// ── Pub/sub and work queues (lib/pubsub, lib/queue) ─────────────────────────

/** Keyspace notifications are off on a node (its `notify-keyspace-events` lacks flags a subscription needs). */
export class KeyspaceNotificationsDisabledError extends SlotwiseError {
  /** The node's current `notify-keyspace-events` value. */
  readonly current: string;
  /** Flags that must be added. */
  readonly missing: string;
  constructor(address: string, current: string, missing: string) {
    super(
      `Keyspace notifications are off on ${address}: notify-keyspace-events is "${current}", missing "${missing}". ` +
        `Set it on every node (CONFIG SET notify-keyspace-events ${current}${missing}, and in redis.conf) or pass { config: 'enable' }`,
      'ERR_SLOTWISE_KEYSPACE_DISABLED',
      { address },
    );
    this.current = current;
    this.missing = missing;
  }
}

/** A received message could not be decoded by the serializer (Topic, WorkQueue payloads). */
export class MessageDecodeError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_MESSAGE_DECODE', ctx);
  }
}

// ── locks (lib/lock) ─────────────────────────────────────────────────────────

/** What one Redlock instance answered to a grant attempt. */
export interface QuorumInstanceOutcome {
  /** Position of the instance in the Redlock's client list. */
  readonly index: number;
  /** `granted`: this instance gave the lock; `held`: someone else holds it there; `error`: it could not answer. */
  readonly outcome: 'granted' | 'held' | 'error';
  /** For 'error': the ConnectionError, TimeoutError, … that instance raised. */
  readonly error?: Error;
}

/**
 * A Redlock grant did not reach a quorum of instances because too many of
 * them could not be reached (for "held by someone else" it is
 * LockNotAcquiredError). Every partial grant was released.
 */
export class LockQuorumError extends SlotwiseError {
  /** Instances that granted. */
  readonly granted: number;
  /** Instances needed. */
  readonly quorum: number;
  /** What each instance answered, in the Redlock's client order. */
  readonly instances: readonly QuorumInstanceOutcome[];
  constructor(name: string, granted: number, quorum: number, instances: readonly QuorumInstanceOutcome[], ctx: ErrorContext = {}) {
    const failed = instances.filter((i) => i.outcome === 'error');
    super(
      `Lock "${name}" reached ${granted} of the ${quorum} instances it needs: ${failed.length} of ${instances.length} could not be reached ` +
        `(${failed.map((i) => `#${i.index}: ${(i.error as { code?: string } | undefined)?.code ?? i.error?.name}`).join(', ')}); partial grants were released`,
      'ERR_SLOTWISE_LOCK_QUORUM',
      { ...ctx, ...(ctx.cause === undefined && failed[0]?.error ? { cause: failed[0].error } : {}) },
    );
    this.granted = granted;
    this.quorum = quorum;
    this.instances = Object.freeze([...instances]);
  }
}

// ── queues (lib/queue) ────────────────────────────────────────────────────────

/** A job handler threw (or rejected with) something that is not an Error; `thrown` is that value. */
export class NonErrorThrownError extends SlotwiseError {
  /** The value that was thrown (not an Error). */
  readonly thrown: unknown;
  constructor(thrown: unknown, ctx: ErrorContext = {}) {
    super(`The job handler threw a non-Error value: ${describeThrown(thrown)} (throw an Error so the stack is kept)`, 'ERR_SLOTWISE_NON_ERROR_THROWN', ctx);
    this.thrown = thrown;
  }
}

/** A job delivery was taken over by another worker (visibility timeout) or given up on close. */
export class JobLostError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_JOB_LOST', ctx);
  }
}

/** The work queue (or its worker) was closed. */
export class QueueClosedError extends SlotwiseError {
  constructor(message = 'The work queue is closed', ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_QUEUE_CLOSED', ctx);
  }
}

function describeThrown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 197)}...` : v);
  try {
    const json = JSON.stringify(v);
    if (json !== undefined) return json.length > 200 ? `${json.slice(0, 197)}...` : json;
  } catch {
    // fall through: cyclic or BigInt
  }
  return String(v);
}

// ── sessions (lib/session) ───────────────────────────────────────────────────

// ── Sessions (lib/session) ────────────────────────────────────────────────

/** A session could not be created under the id given: it exists, or was destroyed recently (tombstone). Nothing was written. */
export class SessionExistsError extends SlotwiseError {
  /** The session id that was to be created. */
  readonly sessionId: string;
  /** `'exists'`: a live session has this id; `'destroyed'`: its tombstone is still there. */
  readonly reason: 'exists' | 'destroyed';
  constructor(sessionId: string, reason: 'exists' | 'destroyed', ctx: ErrorContext = {}) {
    super(
      reason === 'exists'
        ? `Session "${sessionId}" already exists`
        : `Session "${sessionId}" was destroyed recently; its id cannot be reused until the tombstone expires`,
      'ERR_SLOTWISE_SESSION_EXISTS',
      ctx,
    );
    this.sessionId = sessionId;
    this.reason = reason;
  }
}

/** A session changed since the version the caller read (`expectedVersion`), or kept changing during `regenerate()`. Nothing was written. */
export class SessionConflictError extends SlotwiseError {
  /** The session whose write conflicted. */
  readonly sessionId: string;
  /** The version stored now (0 when unknown). */
  readonly currentVersion: number;
  constructor(sessionId: string, message: string, currentVersion = 0, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_SESSION_CONFLICT', ctx);
    this.sessionId = sessionId;
    this.currentVersion = currentVersion;
  }
}

/**
 * A discovery provider or configuration source could not be used: its store
 * (ZooKeeper, DNS) cannot be reached or read, or its optional client package
 * is missing. The client keeps its current nodes and configuration.
 */
export class DiscoveryError extends SlotwiseError {
  constructor(message: string, ctx: ErrorContext = {}) {
    super(message, 'ERR_SLOTWISE_DISCOVERY', ctx);
  }
}

// ── rate limiter (lib/ratelimit) ─────────────────────────────────────────────

/**
 * `RateLimiter.acquire()` gave up: the units cannot be granted within the
 * wait it was allowed (`waitMs`). Nothing was granted.
 */
export class RateLimitedError extends SlotwiseError {
  /** The limited key (as passed, without prefix). */
  readonly key: string;
  /** How long until the units could be granted, as the server computed it (ms). */
  readonly retryAfterMs: number;
  constructor(key: string, retryAfterMs: number, ctx: ErrorContext = {}) {
    super(`Rate limit of "${key}" reached: retry in ${retryAfterMs} ms (longer than the wait allowed)`, 'ERR_SLOTWISE_RATE_LIMITED', ctx);
    this.key = key;
    this.retryAfterMs = retryAfterMs;
  }
}
