import { InvalidArgumentError } from '../errors.js';
import { formatAddress, type HostPort } from '../core/addresses.js';
import { describe } from '../core/describe.js';
import type { AddressMap } from '../options.js';
import type { AddressMapper } from './snapshot.js';

/**
 * Builds the function that turns an address the cluster announces (in
 * CLUSTER SHARDS, MOVED, ASK) into the one this process connects to.
 */
export function createAddressMapper(map: AddressMap | undefined): AddressMapper {
  if (map === undefined) return (host, port) => ({ host, port });
  if (typeof map === 'function') {
    return (host, port) => {
      const out = map({ host, port });
      if (out === undefined) return { host, port };
      return checked(out, `natMap(${formatAddress(host, port)})`);
    };
  }
  const table = new Map<string, HostPort>();
  for (const [from, to] of Object.entries(map)) table.set(from, checked(to, `natMap["${from}"]`));
  return (host, port) => table.get(formatAddress(host, port)) ?? { host, port };
}

function checked(v: HostPort, what: string): HostPort {
  if (!v || typeof v.host !== 'string' || !v.host || !Number.isInteger(v.port) || v.port <= 0 || v.port > 65535) {
    throw new InvalidArgumentError(what, `expected {host, port}, got ${describe(v)}`);
  }
  return { host: v.host, port: v.port };
}
