/**
 * Port selection. Every node needs two ports: the client port and the cluster
 * bus port (set explicitly with `cluster-port`, so the bus never lands on
 * port + 10000 by accident — that port may belong to someone else).
 *
 * Probing a port by listening on it and closing it again is racy: another
 * process may take it before redis-server binds. The node starter therefore
 * detects "Address already in use" and asks for new ports; this module only
 * makes a good first guess and never hands out a port this process already
 * gave to a live node.
 */
import { createServer } from 'node:net';
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';

/** How ports are chosen for the nodes of one cluster. */
export type PortPolicy =
  /** Any free port the OS offers (default). */
  | { kind: 'auto' }
  /** Free ports within `[from, to]` (inclusive), client and bus ports alike. */
  | { kind: 'range'; from: number; to: number }
  /** Node i gets `base + i`, its bus port `base + i + 10000`; no retry on conflict. */
  | { kind: 'fixed'; base: number };

/** The two ports one node listens on. */
export interface NodePorts {
  readonly port: number;
  readonly busPort: number;
}

/** Ports this process currently uses for engine nodes (released on node removal/stop). */
const reserved = new Set<number>();

/** Marks ports as used by a live node of this process. */
export function reservePorts(ports: NodePorts): void {
  reserved.add(ports.port);
  reserved.add(ports.busPort);
}

/** Returns ports to the pool once their node is gone for good. */
export function releasePorts(ports: NodePorts): void {
  reserved.delete(ports.port);
  reserved.delete(ports.busPort);
}

/** Resolves to true when 127.0.0.1:`port` can be bound right now. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function pickAuto(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (!reserved.has(port)) {
      reserved.add(port);
      return port;
    }
  }
  throw new Error('could not obtain a free ephemeral port');
}

async function pickInRange(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    if (reserved.has(port)) continue;
    reserved.add(port); // claim before the async probe so parallel picks never collide
    if (await isPortFree(port)) return port;
    reserved.delete(port);
  }
  throw new InvalidArgumentError('portRange', `no free port left in ${from}-${to} (each node needs a client port and a bus port)`);
}

/**
 * Chooses (and reserves) the client and bus port of one node.
 * `index` is the node's position, used only by the `fixed` policy.
 */
export async function allocateNodePorts(policy: PortPolicy, index: number): Promise<NodePorts> {
  switch (policy.kind) {
    case 'auto': {
      const port = await pickAuto();
      const busPort = await pickAuto();
      return { port, busPort };
    }
    case 'range': {
      const port = await pickInRange(policy.from, policy.to);
      const busPort = await pickInRange(policy.from, policy.to);
      return { port, busPort };
    }
    case 'fixed': {
      const ports = { port: policy.base + index, busPort: policy.base + index + 10_000 };
      for (const p of [ports.port, ports.busPort]) {
        if (p > 65_535) throw new InvalidArgumentError('basePort', `port ${p} for node ${index} is above 65535`);
        if (reserved.has(p) || !(await isPortFree(p))) {
          throw new ClusterEngineError(`port ${p} (node ${index}) is already in use on 127.0.0.1; choose another base port (--port / withBasePort())`, { address: `127.0.0.1:${p}` });
        }
      }
      reservePorts(ports);
      return ports;
    }
  }
}

let lastAlias = 1;

/**
 * Another loopback address for a node that "moves" (127.0.0.2 … 127.0.0.254,
 * round robin, never `current`). Linux routes all of 127.0.0.0/8 to the
 * loopback interface; macOS needs aliases (`ifconfig lo0 alias 127.0.0.2`).
 */
export function nextLoopbackAddress(current: string): string {
  for (;;) {
    lastAlias = lastAlias >= 254 ? 2 : lastAlias + 1;
    const next = `127.0.0.${lastAlias}`;
    if (next !== current) return next;
  }
}
