import { InvalidArgumentError } from '../errors.js';
import { describe } from './describe.js';

/** `host:port` string or object naming one cluster node. */
export type NodeAddress = string | {
  /** Host name or IP. */
  host: string;
  /** TCP port. */
  port: number;
};

/** A node address after parsing: host and port, plus `host:port`. */
export interface HostPort {
  /** Host name or IP. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** Parses `host:port`, `[ipv6]:port` or `{host, port}`. */
export function parseAddress(value: NodeAddress, what = 'address'): HostPort {
  if (typeof value === 'string') {
    const colon = value.lastIndexOf(':');
    let host = colon > 0 ? value.slice(0, colon) : '';
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const port = Number(value.slice(colon + 1));
    if (host && Number.isInteger(port) && port > 0 && port < 65536) return { host, port };
    throw new InvalidArgumentError(what, `expected "host:port", got ${describe(value)}`);
  }
  if (value && typeof value === 'object' && typeof value.host === 'string' && value.host && Number.isInteger(value.port) && value.port > 0 && value.port < 65536) {
    return { host: value.host, port: value.port };
  }
  throw new InvalidArgumentError(what, `expected "host:port" or {host, port} with 0 < port < 65536, got ${describe(value)}`);
}

/** `host:port`, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Resolves a node's hostname to an IP, ioredis-style: `callback(err, address)`.
 * Called for every new connection to a node announced by name, so a name
 * whose IP changed (a restarted Kubernetes pod) is reached at its new IP.
 */
export type DnsLookup = (hostname: string, callback: (err: NodeJS.ErrnoException | null | undefined, address: string, family?: number) => void) => void;
