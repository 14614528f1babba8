import { Redis } from 'ioredis';
import { isIP } from 'node:net';
import { connect as connectTls, type ConnectionOptions as TlsOptions } from 'node:tls';
import { AuthError, InvalidArgumentError, TlsError } from '../errors.js';
import { formatAddress } from '../core/addresses.js';
import type { Credentials, DnsLookup, ResolvedOptions } from '../options.js';
import { authFailureReason, isResetDuringConnect, tlsFailureReason } from '../core/classify.js';

/**
 * Resolves `host` with the `dnsLookup` option, bounded by the connect timeout.
 * Runs on every connect: a pod restarted under the same name has a new IP.
 */
function lookup(fn: DnsLookup, host: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsLookup(${JSON.stringify(host)}) gave no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      fn(host, (err, address) => {
        clearTimeout(timer);
        if (err) reject(Object.assign(new Error(`dnsLookup(${JSON.stringify(host)}) failed: ${err.message}`, { cause: err }), { code: err.code }));
        else if (typeof address !== 'string' || isIP(address) === 0) reject(new Error(`dnsLookup(${JSON.stringify(host)}) returned ${JSON.stringify(address)}, not an IP address`));
        else resolve(address);
      });
    } catch (err) {
      clearTimeout(timer);
      reject(err as Error);
    }
  });
}

/**
 * Opens one ioredis standalone connection to a node with the settings every
 * slotwise connection shares: credentials and TLS from the client options
 * (so every node gets them, not only root nodes), and NO queuing, re-sending
 * or reconnecting inside ioredis — slotwise decides every retry itself, so a
 * write can never be re-sent behind its back. Resolves once the connection
 * is ready. `readOnly` (READONLY) only for connections used as replicas: a
 * master demoted by a failover must answer MOVED to reads on a master's
 * connection, not serve them from its now-replica data.
 *
 * Credentials and TLS options are resolved per connection: a
 * `credentialsProvider` or a `tls` function is asked every time, which is
 * what lets secrets rotate under a running client. A WRONGPASS asks the
 * provider exactly once more (it may have rotated in between); a refused
 * handshake or login then fails with AuthError / TlsError, which callers do
 * not retry.
 */
export async function openConnection(host: string, port: number, o: ResolvedOptions, name = o.connectionName, readOnly = false): Promise<Redis> {
  const address = formatAddress(host, port);
  const byName = o.dnsLookup !== undefined && isIP(host) === 0;
  const ip = byName ? await lookup(o.dnsLookup!, host, o.connectTimeoutMs) : host;
  const given = await tlsFor(o, address);
  // Connected by IP, the certificate is still checked against the name.
  const tls = byName && given !== undefined ? { servername: host, ...given } : given;
  let creds = await credentialsFor(o, address);
  try {
    return await connectOnce(ip, port, o, name, readOnly, tls, creds);
  } catch (err) {
    const reason = authFailureReason(err);
    if (reason !== 'WRONGPASS' || o.credentialsProvider === undefined) throw await explained(err, address, ip, port, o, tls, creds);
  }
  creds = await credentialsFor(o, address);
  try {
    return await connectOnce(ip, port, o, name, readOnly, tls, creds);
  } catch (err) {
    throw await explained(err, address, ip, port, o, tls, creds);
  }
}

/**
 * The typed error for a failed connect. A TLS 1.3 server verifies the client
 * certificate after the client already wrote its first command; its alert
 * then often loses the race against the reset of that write, leaving only
 * ECONNRESET. A second handshake that writes nothing reproduces the refusal
 * with its real reason (bounded by the connect timeout; only on failure).
 */
async function explained(
  err: unknown, address: string, host: string, port: number, o: ResolvedOptions, tls: TlsOptions | undefined, creds: Credentials | undefined,
): Promise<unknown> {
  const t = typed(err, address, creds);
  if (t !== err || tls === undefined || !isResetDuringConnect(err)) return t;
  const why = await probeTls(host, port, tls, o.connectTimeoutMs);
  return why === undefined ? err : new TlsError(`TLS handshake with ${address} failed: ${why.reason} (${why.detail})`, why.reason, { address, cause: err });
}

/** The credentials for one new connection: the provider's, else the static ones. */
export async function credentialsFor(o: ResolvedOptions, address: string): Promise<Credentials | undefined> {
  const provider = o.credentialsProvider;
  if (provider === undefined) return o.password === undefined ? undefined : { ...(o.username === undefined ? {} : { username: o.username }), password: o.password };
  let c: Credentials;
  try {
    c = await provider();
  } catch (err) {
    // The provider's own message is not repeated: it may quote what it fetched.
    throw new AuthError(`credentialsProvider failed for a connection to ${address} (${(err as Error)?.name ?? typeof err})`, 'unknown', 'PROVIDER', { address, cause: err });
  }
  if (c === null || typeof c !== 'object' || typeof c.password !== 'string' || c.password === '' || (c.username !== undefined && (typeof c.username !== 'string' || c.username === ''))) {
    throw new InvalidArgumentError('credentialsProvider', 'expected it to resolve to { username?: non-empty string, password: non-empty string }', { address });
  }
  return c;
}

async function tlsFor(o: ResolvedOptions, address: string): Promise<TlsOptions | undefined> {
  const t = o.tls;
  if (typeof t !== 'function') return t;
  let value: TlsOptions;
  try {
    value = await t();
  } catch (err) {
    throw new TlsError(`The tls options function failed for a connection to ${address}`, 'TLS_OPTIONS_FUNCTION', { address, cause: err });
  }
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError('tls', 'expected the tls function to return TLS connection options (an object)', { address });
  }
  return value;
}

async function connectOnce(
  host: string, port: number, o: ResolvedOptions, name: string, readOnly: boolean, tls: TlsOptions | undefined, creds: Credentials | undefined,
): Promise<Redis> {
  const redis = new Redis({
    host,
    port,
    username: creds?.username,
    password: creds?.password,
    tls,
    connectionName: name,
    connectTimeout: o.connectTimeoutMs,
    protocol: o.protocol,
    lazyConnect: true,
    readOnly,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
    enableAutoPipelining: false,
  });
  // ioredis reports the real cause of a failed handshake (NOAUTH, WRONGPASS,
  // NOPERM, a TLS alert …) as an 'error' event and then rejects connect()
  // with a bare "Connection is closed": keep the cause so the caller can name it.
  let lastError: Error | undefined;
  const onError = (err: Error) => {
    lastError ??= err;
  };
  redis.on('error', onError);
  try {
    await redis.connect();
    // A TLS 1.3 server checks the client certificate after the client
    // considers the handshake done: one round trip proves it was accepted,
    // so a refused certificate fails here, inside the connect timeout.
    if (tls !== undefined) await withTimeout(redis.ping(), o.connectTimeoutMs, () => lastError);
  } catch (err) {
    redis.disconnect();
    redactCommand(err);
    redactCommand(lastError);
    const cause = lastError ?? (err as Error);
    if (cause !== err && cause.message !== (err as Error).message) {
      throw Object.assign(new Error(`${cause.message} (${(err as Error).message})`, { cause }), { code: (cause as { code?: string }).code });
    }
    throw err;
  }
  redis.off('error', onError);
  redis.on('error', () => undefined);
  return redis;
}

/**
 * ioredis attaches the failed command to a reply error (`command.args`); for
 * the handshake that is HELLO … AUTH user password or AUTH itself. Our typed
 * errors keep the reply error as `cause`, so the arguments go first.
 */
function redactCommand(err: unknown): void {
  const e = err as { command?: { name?: unknown; args?: unknown } } | undefined;
  if (e !== null && typeof e === 'object' && e.command !== null && typeof e.command === 'object') {
    e.command = { name: e.command.name, args: ['[redacted]'] };
  }
}

/**
 * Handshakes without writing and waits for the server's verdict: a session
 * ticket (TLS 1.3 servers send it once they accepted our certificate), a
 * TLS alert, or nothing within `ms`. Resolves with the TLS reason of a refusal.
 */
function probeTls(host: string, port: number, tls: TlsOptions, ms: number): Promise<{ reason: string; detail: string } | undefined> {
  return new Promise((resolve) => {
    const socket = connectTls({ ...tls, host, port });
    let settled = false;
    const done = (v: { reason: string; detail: string } | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.once('session', () => done(undefined));
    socket.once('error', (e) => done(tlsFailureReason(e)));
    socket.once('close', () => done(undefined));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, cause: () => Error | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(cause() ?? new Error(`No reply to the first command within ${ms} ms after the TLS handshake`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** AuthError / TlsError for handshake and login refusals; anything else unchanged (the caller wraps it). */
function typed(err: unknown, address: string, creds: Credentials | undefined): unknown {
  if (err instanceof AuthError || err instanceof TlsError || err instanceof InvalidArgumentError) return err;
  const user = creds?.username ?? 'default';
  const auth = authFailureReason(err);
  if (auth !== undefined) {
    return new AuthError(`Authentication as user "${user}" failed on ${address}: ${auth}${creds === undefined ? ' (no credentials were given)' : ''}`, user, auth, { address, cause: err });
  }
  const tls = tlsFailureReason(err);
  if (tls !== undefined) {
    return new TlsError(`TLS handshake with ${address} failed: ${tls.reason} (${tls.detail})`, tls.reason, { address, cause: err });
  }
  return err;
}

/** Closes a connection and resolves once its socket is gone. */
export async function closeConnection(r: Redis, graceful: boolean): Promise<void> {
  const ended = r.status === 'end' ? Promise.resolve() : new Promise<void>((resolve) => r.once('end', () => resolve()));
  if (graceful && r.status === 'ready') {
    await r.quit().catch(() => r.disconnect());
  } else {
    r.disconnect();
  }
  await ended;
}

/** Sends AUTH with `creds` on a live connection; resolves with its reply. */
export function reauth(r: Redis, creds: Credentials | undefined): Promise<unknown> {
  if (creds === undefined) return Promise.resolve('OK');
  const sent = creds.username === undefined ? r.call('AUTH', creds.password) : r.call('AUTH', creds.username, creds.password);
  return sent.catch((err: unknown) => {
    redactCommand(err);
    throw err;
  });
}
