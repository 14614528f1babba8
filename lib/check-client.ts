import { ClusterClient } from './cluster-client.js';
import { describe } from './core/describe.js';
import { InvalidArgumentError } from './errors.js';

/**
 * How every helper (locks, queues, topics, sessions) accepts its client:
 * a ClusterClient, or InvalidArgumentError before anything is sent.
 */
export function checkClient(client: unknown, what = 'client'): ClusterClient {
  if (!(client instanceof ClusterClient)) throw new InvalidArgumentError(what, `expected a ClusterClient, got ${describe(client)}`);
  return client;
}
