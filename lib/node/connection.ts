import { Redis } from 'ioredis';
import { isIP } from 'node:net';
import type { DnsLookup, ResolvedOptions } from '../options.js';

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
 */
export async function openConnection(host: string, port: number, o: ResolvedOptions, name = o.connectionName, readOnly = false): Promise<Redis> {
  const byName = o.dnsLookup !== undefined && isIP(host) === 0;
  const ip = byName ? await lookup(o.dnsLookup!, host, o.connectTimeoutMs) : host;
  const redis = new Redis({
    host: ip,
    port,
    username: o.username,
    password: o.password,
    // Connected by IP, the certificate is still checked against the name.
    tls: byName && o.tls !== undefined ? { servername: host, ...o.tls } : o.tls,
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
  // NOPERM …) as an 'error' event and then rejects connect() with a bare
  // "Connection is closed": keep the cause so the caller can name it.
  let lastError: Error | undefined;
  const onError = (err: Error) => {
    lastError = err;
  };
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    if (lastError && lastError !== err && lastError.message !== (err as Error).message) {
      throw Object.assign(new Error(`${lastError.message} (${(err as Error).message})`, { cause: lastError }), { code: (lastError as { code?: string }).code });
    }
    throw err;
  }
  redis.off('error', onError);
  redis.on('error', () => undefined);
  return redis;
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
