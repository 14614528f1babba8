import { SLOT_COUNT } from './slots.js';
import {
  CircuitOpenError,
  ConnectionError,
  CrossSlotError,
  ProtocolError,
  RedisReplyError,
  SlotwiseError,
  type ErrorContext,
} from '../errors.js';

/**
 * What the router should do about one failed attempt. Produced by the pure
 * `classify()`; the only place in slotwise that reads error message text.
 */
export type Classified =
  /** The slot lives elsewhere for good: patch the map, retry at the target. */
  | { readonly kind: 'moved'; readonly slot: number; readonly host: string; readonly port: number }
  /** The key is being migrated: retry once at the target, preceded by ASKING. */
  | { readonly kind: 'ask'; readonly slot: number; readonly host: string; readonly port: number }
  /**
   * Transient cluster states — wait (backoff, bounded by the deadline) for the
   * owner of the slot and retry there. `refresh` says whether the topology is
   * probably stale.
   */
  | { readonly kind: 'wait'; readonly reason: WaitReason; readonly refresh: boolean }
  /** Transport failure. `maybeSent`: the server may have executed the command. */
  | { readonly kind: 'connection'; readonly maybeSent: boolean; readonly error: ConnectionError }
  /** The node's circuit breaker is open; nothing was sent. */
  | { readonly kind: 'breaker'; readonly error: CircuitOpenError }
  /** Not retryable: hand this error to the caller. */
  | { readonly kind: 'final'; readonly error: Error };

export type WaitReason = 'tryagain' | 'clusterdown' | 'loading' | 'masterdown' | 'readonly' | 'unblocked';

const WAIT_PREFIXES: Record<string, { reason: WaitReason; refresh: boolean }> = {
  TRYAGAIN: { reason: 'tryagain', refresh: false },
  CLUSTERDOWN: { reason: 'clusterdown', refresh: true },
  LOADING: { reason: 'loading', refresh: false },
  MASTERDOWN: { reason: 'masterdown', refresh: true },
  // A write reached a node that has just become a replica (failover): nothing
  // was written, and the map is stale.
  READONLY: { reason: 'readonly', refresh: true },
  // A blocked client released because its node stopped serving the slot
  // (failover to replica): nothing was consumed, re-issue at the new owner.
  UNBLOCKED: { reason: 'unblocked', refresh: true },
};

/** Messages ioredis uses for a command that never reached the socket. */
const NOT_SENT_MESSAGES = ["Stream isn't writeable", 'Connection in subscriber mode'];
/** Messages ioredis uses for a connection that died with commands pending. */
const LOST_MESSAGES = ['Connection is closed', 'Command timed out', 'Reached the max retries per request limit'];
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * Classifies an error from one attempt. `ctx` (address, slot, command) is
 * attached to the error that reaches the caller.
 */
export function classify(err: unknown, ctx: ErrorContext = {}): Classified {
  if (err instanceof ConnectionError) return { kind: 'connection', maybeSent: err.maybeSent, error: err };
  if (err instanceof CircuitOpenError) return { kind: 'breaker', error: err };
  if (err instanceof SlotwiseError) return { kind: 'final', error: err };
  if (!(err instanceof Error)) return { kind: 'final', error: new SlotwiseError(String(err), 'ERR_SLOTWISE_UNKNOWN', ctx) };
  if (isReplyError(err)) return classifyReply(err.message, ctx);
  const transport = transportError(err, ctx);
  if (transport) return { kind: 'connection', maybeSent: transport.maybeSent, error: transport };
  return { kind: 'final', error: err };
}

/** Server error replies come from redis-errors' ReplyError (ioredis), raw from a dedicated connection. */
export function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/**
 * The first word of a server error reply (`NOSCRIPT`, `EXECABORT`, …), raw or
 * wrapped in RedisReplyError; undefined for anything that is not a reply.
 */
export function replyPrefix(err: unknown): string | undefined {
  if (err instanceof RedisReplyError) return err.prefix;
  if (!isReplyError(err)) return undefined;
  const message = (err as Error).message;
  const space = message.indexOf(' ');
  return space === -1 ? message : message.slice(0, space);
}

/** Reply prefixes of states the cluster leaves by itself: redirects and the waits above. */
const TRANSIENT_PREFIXES: ReadonlySet<string> = new Set(['MOVED', 'ASK', ...Object.keys(WAIT_PREFIXES)]);

/** True for a reply (raw or RedisReplyError) that a later attempt at the slot's owner can outlive. */
export function isTransientReply(err: unknown): boolean {
  const prefix = replyPrefix(err);
  return prefix !== undefined && TRANSIENT_PREFIXES.has(prefix);
}

function classifyReply(message: string, ctx: ErrorContext): Classified {
  const space = message.indexOf(' ');
  const prefix = space === -1 ? message : message.slice(0, space);
  if (prefix === 'MOVED' || prefix === 'ASK') {
    const target = parseRedirect(message);
    if (!target) {
      return { kind: 'final', error: new ProtocolError(`Malformed ${prefix} redirect rejected: "${message}"`, ctx) };
    }
    return { kind: prefix === 'MOVED' ? 'moved' : 'ask', ...target };
  }
  const wait = WAIT_PREFIXES[prefix];
  if (wait) return { kind: 'wait', ...wait };
  if (prefix === 'CROSSSLOT') {
    return { kind: 'final', error: new CrossSlotError(message, ctx.slot === undefined ? [] : [ctx.slot], ctx) };
  }
  return { kind: 'final', error: new RedisReplyError(message, ctx) };
}

/**
 * Parses `MOVED <slot> <host>:<port>` / `ASK …`. Returns undefined unless the
 * slot is an integer in range and the port is valid — a malformed redirect
 * must never be followed. An empty host (`:6380`, sent when the node's
 * preferred endpoint is unknown) means "the host you asked"; it is returned
 * as '' for the caller to fill in.
 */
export function parseRedirect(message: string): { slot: number; host: string; port: number } | undefined {
  const parts = message.split(' ');
  if (parts.length !== 3) return undefined;
  const [, slotText, endpoint] = parts as [string, string, string];
  if (!/^\d{1,5}$/.test(slotText)) return undefined;
  const slot = Number(slotText);
  if (slot >= SLOT_COUNT) return undefined;
  const colon = endpoint.lastIndexOf(':');
  if (colon === -1) return undefined;
  const portText = endpoint.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  let host = endpoint.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '?') return undefined;
  return { slot, host, port };
}

/**
 * Normalizes an ioredis/socket error into a ConnectionError, or undefined when
 * it is not a transport problem. `maybeSent` is false only when the command
 * provably never reached the socket.
 */
export function transportError(err: Error, ctx: ErrorContext = {}): ConnectionError | undefined {
  if (err instanceof ConnectionError) return err;
  const msg = err.message;
  if (NOT_SENT_MESSAGES.some((m) => msg.startsWith(m))) {
    return new ConnectionError(`Not connected to ${ctx.address ?? 'node'}: ${msg}`, { ...ctx, cause: err, maybeSent: false });
  }
  const code = (err as { code?: unknown }).code;
  if (LOST_MESSAGES.some((m) => msg.startsWith(m)) || (typeof code === 'string' && SOCKET_CODES.has(code))) {
    return new ConnectionError(`Connection to ${ctx.address ?? 'node'} lost: ${msg}`, { ...ctx, cause: err, maybeSent: true });
  }
  return undefined;
}

/** True when a server rejected a command or subcommand it does not know (older Redis). */
export function isUnknownCommandReply(err: unknown): boolean {
  return isReplyError(err) && /^ERR unknown (sub)?command/i.test((err as Error).message);
}

// Handshake and login refusals: why a NEW connection was refused (TlsError /
// AuthError in node/connection.ts instead of a retried connection failure).

/** Certificate verification results OpenSSL reports (Node exposes them as `code`). */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/** Server replies that mean "these credentials are refused", by prefix. */
const AUTH_PREFIXES = ['WRONGPASS', 'NOAUTH', 'NOPERM'];

function causeChain(err: unknown): Array<{ code?: unknown; message?: unknown; library?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; library?: unknown }> = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    out.push(e as { code?: unknown; message?: unknown });
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/**
 * The TLS reason (a Node/OpenSSL code) when `err` is a refused TLS handshake
 * — certificate verification on either side, a TLS alert, a protocol
 * mismatch — else undefined (a plain socket error stays a connection error).
 */
export function tlsFailureReason(err: unknown): { reason: string; detail: string } | undefined {
  for (const e of causeChain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const isTls = CERT_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || e.library === 'SSL routines';
    if (isTls) return { reason: code || 'TLS_HANDSHAKE', detail: typeof e.message === 'string' ? e.message.split('\n', 1)[0]! : code };
  }
  return undefined;
}

/** `WRONGPASS`, `NOAUTH` or `NOPERM` when the server refused the login, else undefined. */
export function authFailureReason(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const m = typeof e.message === 'string' ? e.message : '';
    const prefix = AUTH_PREFIXES.find((p) => m.startsWith(p));
    if (prefix !== undefined) return prefix;
  }
  return undefined;
}

/**
 * A connect that died with a reset (or ioredis' "Connection is closed") — on a
 * TLS connection possibly a refused client certificate whose alert lost the
 * race against the reset (see node/connection.ts).
 */
export function isResetDuringConnect(err: unknown): boolean {
  return /ECONNRESET|EPIPE|Connection is closed/.test(String((err as Error)?.message));
}
