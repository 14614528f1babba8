/**
 * `npm start`: slotwise on a real Redis Cluster that is being broken on
 * purpose. Starts a 3-master × 1-replica cluster with the embedded engine,
 * drives a mixed read/write workload through slotwise with a live progress
 * line, reshards a third of the slots and kills a master mid-run, then
 * prints a summary (errors must be 0) and tears everything down.
 */
import { performance } from 'node:perf_hooks';
import { ClusterClient, slotOf } from '../lib/index.js';
import { RedisClusterContainer } from '../testcontainers/index.js';

const WORKERS = 64;
const KEYS = 20_000;
const WRITE_RATIO = 0.3;
const tty = process.stdout.isTTY === true;

interface Window {
  ops: number;
  errors: number;
  latencies: number[];
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;
}

async function main(): Promise<void> {
  const log = (msg: string) => {
    if (tty) process.stdout.write('\r\x1b[2K');
    console.log(msg);
  };
  log('Starting a real Redis Cluster (3 masters × 1 replica, node timeout 2 s) from redis-server processes…');
  const t0 = Date.now();
  const cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
  let client: ClusterClient | undefined;
  try {
    log(`Cluster ready in ${Date.now() - t0} ms: ${cluster.getRootNodes().map((n) => `${n.host}:${n.port}`).join(', ')}`);
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 10_000 });
    const redirects = { moved: 0, ask: 0 };
    client.on('redirect', (r) => redirects[r.kind]++);
    await client.connect();
    const c = client;

    log(`Writing ${KEYS} keys…`);
    const value = 'v'.repeat(100);
    for (let i = 0; i < KEYS; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => c.set(`demo:${i + j}`, value)));
    }

    const total: Window = { ops: 0, errors: 0, latencies: [] };
    let window: Window = { ops: 0, errors: 0, latencies: [] };
    const firstErrors: string[] = [];
    let running = true;
    let phase = 'steady load';
    const worker = async (w: number) => {
      let i = w;
      while (running) {
        const key = `demo:${(i * 7919) % KEYS}`;
        i++;
        const start = performance.now();
        try {
          if (Math.random() < WRITE_RATIO) await c.set(key, value);
          else await c.get(key);
          const ms = performance.now() - start;
          window.ops++;
          window.latencies.push(ms);
        } catch (err) {
          window.errors++;
          if (firstErrors.length < 5) firstErrors.push(`${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));

    const started = Date.now();
    const ticker = setInterval(() => {
      const w = window;
      window = { ops: 0, errors: 0, latencies: [] };
      total.ops += w.ops;
      total.errors += w.errors;
      const sorted = w.latencies.sort((a, b) => a - b);
      for (let i = 0; i < sorted.length; i += 10) total.latencies.push(sorted[i]!);
      const line = `[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${phase.padEnd(34)} ` +
        `${String(w.ops).padStart(7)} ops/s  p50 ${pct(sorted, 0.5).toFixed(2)} ms  p99 ${pct(sorted, 0.99).toFixed(2)} ms  ` +
        `redirects ${redirects.moved + redirects.ask}  errors ${total.errors}`;
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else console.log(line);
    }, 1000);

    const hold = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await hold(4000);

    // A third of all slots changes owner, a ring of live migrations (a→b, b→c, c→a),
    // so every master still serves slots: a master left without slots would not
    // vote, and the failover below would then lack a majority.
    const masters = cluster.getRootNodes();
    const owned = masters.map((m) => {
      const shard = c.topology!.shards.find((sh) => sh.master.port === m.port)!;
      return c.topology!.ranges(shard.index).flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, k) => lo + k));
    });
    let moved = 0;
    let keysMoved = 0;
    const reshardStart = Date.now();
    for (let i = 0; i < masters.length; i++) {
      const from = masters[i]!.port;
      const to = masters[(i + 1) % masters.length]!.port;
      phase = `resharding :${from}→:${to}`;
      const r = await cluster.reshard({ from, to, slots: owned[i]!.slice(0, Math.round(16384 / 3 / masters.length)) });
      moved += r.slots.length;
      keysMoved += r.keys;
    }
    log(`Resharded ${moved} slots (${keysMoved} keys moved) in ${Date.now() - reshardStart} ms under load`);
    phase = 'steady load (after reshard)';
    await hold(3000);

    const victim = masters[2]!.port;
    phase = `kill -9 of master :${victim}`;
    // Said up front so the 0 ops/s lines that follow are not read as an outage of every shard.
    log(`kill -9 of master :${victim}: its commands wait for the replica's promotion instead of failing; each of the ${WORKERS} workers soon picks a key there and waits too, so this closed loop shows 0 ops/s until then`);
    const kill = await cluster.killNode(victim);
    log(`Killed master :${victim}; replica :${kill.promoted?.port} promoted ${kill.promoted ? kill.promoted.at - kill.killedAt : '?'} ms later`);
    phase = 'steady load (after failover)';
    await hold(4000);

    running = false;
    await Promise.all(workers);
    clearInterval(ticker);
    total.ops += window.ops;
    total.errors += window.errors;

    // Every key must still be readable.
    let unreadable = 0;
    for (let i = 0; i < KEYS; i += 1000) {
      const got = await Promise.all(Array.from({ length: 1000 }, (_, j) => c.get(`demo:${i + j}`)));
      unreadable += got.filter((v) => v !== value).length;
    }
    const sorted = total.latencies.sort((x, y) => x - y);
    const seconds = (Date.now() - started) / 1000;
    const slotOwner = c.topology!.shardOf(slotOf('demo:0'))!.master.address;
    log('');
    log('Summary');
    log(`  operations       ${total.ops} in ${seconds.toFixed(1)} s (${Math.round(total.ops / seconds)} ops/s average, ${WORKERS} in flight)`);
    log(`  latency          p50 ${pct(sorted, 0.5).toFixed(2)} ms, p99 ${pct(sorted, 0.99).toFixed(2)} ms`);
    log(`  redirects        ${redirects.moved} MOVED + ${redirects.ask} ASK followed`);
    log(`  errors surfaced  ${total.errors}${firstErrors.length ? ` (first: ${firstErrors.join(' | ')})` : ''}`);
    log(`  keys unreadable  ${unreadable} of ${KEYS} (demo:0 now lives on ${slotOwner})`);
    if (total.errors > 0 || unreadable > 0) process.exitCode = 1;
  } finally {
    await client?.quit().catch(() => undefined);
    await cluster.stop();
    console.log('Cluster stopped; every redis-server process ended.');
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
