/**
 * A minimal in-process RESP2 server posing as a one-node cluster. Only for
 * protocol edge cases a real redis-server cannot be made to produce on demand
 * (a malformed MOVED, for instance); everything else is tested on real nodes.
 */
import net from 'node:net';

export type Reply = string | number | null | Error | Reply[] | { simple: string };

function encode(r: Reply): string {
  if (r === null) return '$-1\r\n';
  if (r instanceof Error) return `-${r.message}\r\n`;
  if (typeof r === 'number') return `:${r}\r\n`;
  if (typeof r === 'string') return `$${Buffer.byteLength(r)}\r\n${r}\r\n`;
  if (Array.isArray(r)) return `*${r.length}\r\n${r.map(encode).join('')}`;
  return `+${r.simple}\r\n`;
}

/** Parses complete RESP arrays of bulk strings from `buf`; returns commands and the unconsumed rest. */
function parse(buf: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let pos = 0;
  outer: while (pos < buf.length) {
    if (buf[pos] !== '*') break;
    let eol = buf.indexOf('\r\n', pos);
    if (eol === -1) break;
    const n = Number(buf.slice(pos + 1, eol));
    let p = eol + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      eol = buf.indexOf('\r\n', p);
      if (eol === -1) break outer;
      const len = Number(buf.slice(p + 1, eol));
      if (buf.length < eol + 2 + len + 2) break outer;
      args.push(buf.slice(eol + 2, eol + 2 + len));
      p = eol + 2 + len + 2;
    }
    commands.push(args);
    pos = p;
  }
  return { commands, rest: buf.slice(pos) };
}

export interface FakeNode {
  readonly port: number;
  /** Commands received, upper-cased name first. */
  readonly received: string[][];
  close(): Promise<void>;
}

/**
 * Starts a fake node that owns every slot and answers handshake and topology
 * commands itself; `answer` decides the reply to anything else.
 */
export async function startFakeNode(answer: (args: string[]) => Reply): Promise<FakeNode> {
  const received: string[][] = [];
  const sockets = new Set<net.Socket>();
  let port = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d) => {
      const { commands, rest } = parse(buf + d.toString('latin1'));
      buf = rest;
      for (const args of commands) {
        const name = args[0]!.toUpperCase();
        received.push([name, ...args.slice(1)]);
        socket.write(encode(builtin(name, args) ?? answer(args)));
      }
    });
  });
  function builtin(name: string, args: string[]): Reply | undefined {
    const sub = (args[1] ?? '').toUpperCase();
    if (name === 'HELLO') return new Error('ERR unknown command');
    if (name === 'CLIENT' || name === 'READONLY' || name === 'SELECT' || name === 'QUIT') return { simple: 'OK' };
    if (name === 'PING') return { simple: 'PONG' };
    if (name === 'CLUSTER' && sub === 'INFO') return 'cluster_state:ok\r\ncluster_current_epoch:1\r\n';
    if (name === 'CLUSTER' && sub === 'SHARDS') {
      return [['slots', [0, 16383], 'nodes', [['id', 'f'.repeat(40), 'port', port, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master', 'replication-offset', 1, 'health', 'online']]]];
    }
    return undefined;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
