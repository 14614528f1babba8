/**
 * `slotwise` command line:
 *   slotwise cluster up [--masters 3] [--replicas 1] [--port N] [--node-timeout-ms N] [--password P] [--user U] [--tls | --mtls]
 *   slotwise cluster status --port N [--host 127.0.0.1] [--password P] [--user U]
 *   slotwise cluster check|fix --port N [--host 127.0.0.1] [--password P] [--user U]
 *   slotwise queue stats|peek|retry-dead|drain NAME --port N [...] (see bin/queue-cli.ts)
 * `up` runs a real cluster in the foreground until Ctrl-C/SIGTERM; `status`
 * prints the slot map of any running cluster; `check` lists open slots
 * (IMPORTING/MIGRATING) and uncovered slots, `fix` closes open slots the way
 * `redis-cli --cluster fix` does.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { isSlotwiseError } from '../lib/errors.js';
import { CLUSTER_DEFAULTS, parseClusterNodes, parseInfo, RedisClusterContainer, type StartedRedisCluster } from '../testcontainers/index.js';
import { AdminPool } from '../testcontainers/admin.js';
import { fixOpenSlots, openSlots, readMasters, type NodeAccess } from '../testcontainers/slot-repair.js';
import { countSlots, rangesOf, SLOT_COUNT, slotOwners, type ClusterNodesEntry } from '../testcontainers/cluster-state.js';
import { QUEUE_USAGE } from './queue-usage.js';

const USAGE = `Usage:
  slotwise cluster up [--masters 3] [--replicas 1] [--port N] [--node-timeout-ms 2000] [--password P [--user U]] [--tls | --mtls]
      Starts a Redis Cluster of local redis-server processes in the foreground and
      prints its root nodes. Ctrl-C (or SIGTERM) stops every node and deletes its files.
      --port N uses ports N, N+1, … (bus ports N+10000, …); default: free ports.
      --tls: TLS-only nodes with a throwaway CA; --mtls: clients must present a certificate too.
      Both print where the CA and client certificate files are.
  slotwise cluster status --port N [--host 127.0.0.1] [--password P [--user U]]
      Prints the slot map (ranges → master and replicas) of a running cluster.
  slotwise cluster check --port N [--host 127.0.0.1] [--password P [--user U]]
      Lists open slots (IMPORTING/MIGRATING left behind, e.g. by a failover in the
      middle of a reshard) and uncovered slots. Exit code 0 when there are none, 2 otherwise.
  slotwise cluster fix --port N [--host 127.0.0.1] [--password P [--user U]]
      Closes every open slot the way redis-cli --cluster fix does, and says what it did.
  slotwise top --port N [--host 127.0.0.1] [--password P [--user U]] [--interval-ms 1000]
      A live view of the cluster, redrawn every second: per node ops/s, PING latency,
      MOVED/ASK per second, clients, breaker state, open slots, and the slot map.
      q or Ctrl-C quits.
${QUEUE_USAGE}`;

type Out = (line: string) => void;

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new CliError(`--${name} expects a whole number, got "${value}"`);
  return n;
}

class CliError extends Error {}

function describeNode(e: ClusterNodesEntry): string {
  return `${e.host || '127.0.0.1'}:${e.port}`;
}

/** Slot map lines for a `CLUSTER NODES` view: one line per master with its ranges and replicas. */
export function formatSlotMap(view: readonly ClusterNodesEntry[]): string[] {
  const owners = slotOwners(view);
  const lines: string[] = [];
  const masters = view
    .filter((e) => e.role === 'master')
    .map((m) => ({ m, ranges: rangesOf(owners, m.id) }))
    .sort((a, b) => (a.ranges[0]?.[0] ?? SLOT_COUNT) - (b.ranges[0]?.[0] ?? SLOT_COUNT));
  for (const { m, ranges } of masters) {
    const count = countSlots(ranges);
    const text = ranges.length === 0 ? '(no slots)' : ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
    const replicas = view.filter((e) => e.masterId === m.id).map((e) => `${describeNode(e)}${e.failed ? ' (fail)' : ''}`);
    const flags = m.failed ? ' (fail)' : m.suspected ? ' (fail?)' : '';
    lines.push(`  ${text.padEnd(24)} ${String(count).padStart(5)} slots  master ${describeNode(m)}${flags} ${m.id.slice(0, 8)}  replicas: ${replicas.length > 0 ? replicas.join(', ') : 'none'}`);
  }
  const uncovered = owners.filter((o) => o === undefined).length;
  if (uncovered > 0) lines.push(`  ${uncovered} slots are not covered by any master`);
  return lines;
}

async function clusterUp(args: string[], out: Out): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      masters: { type: 'string' },
      replicas: { type: 'string' },
      port: { type: 'string' },
      'node-timeout-ms': { type: 'string' },
      password: { type: 'string' },
      user: { type: 'string' },
      tls: { type: 'boolean' },
      mtls: { type: 'boolean' },
    },
    strict: true,
  });
  const replicas = intOption('replicas', values.replicas, CLUSTER_DEFAULTS.replicasPerMaster);
  const builder = new RedisClusterContainer()
    .withMasters(intOption('masters', values.masters, CLUSTER_DEFAULTS.masters))
    .withReplicasPerMaster(replicas);
  if (values['node-timeout-ms'] !== undefined) builder.withNodeTimeoutMs(intOption('node-timeout-ms', values['node-timeout-ms'], 0));
  if (values.port !== undefined) builder.withBasePort(intOption('port', values.port, 0));
  if (values.password !== undefined) builder.withPassword(values.password, values.user);
  else if (values.user !== undefined) throw new CliError('--user needs --password');
  if (values.tls === true || values.mtls === true) builder.withTls({ mutual: values.mtls === true });

  // Listen before starting, so a Ctrl-C during start-up also tears down what exists.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => resolve(s);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const started = builder.start();
  const first = await Promise.race([started.then((c) => ({ c })), stopSignal.then((s) => ({ s }))]);
  if ('s' in first) {
    out(`slotwise: ${first.s} received during start-up; stopping…`);
    const c = await started.catch(() => undefined);
    await c?.stop();
    return 130;
  }
  const cluster: StartedRedisCluster = first.c;
  const nodes = await cluster.getNodes();
  const masters = nodes.filter((n) => n.role === 'master');
  out(`slotwise: Redis Cluster up — ${masters.length} master${masters.length === 1 ? '' : 's'} × ${replicas} replica${replicas === 1 ? '' : 's'} each, healthy after ${cluster.startupMs} ms`);
  out(`root nodes: ${cluster.getRootNodes().map((n) => `${n.host}:${n.port}`).join(' ')}`);
  for (const url of cluster.getConnectionUrls()) out(`  ${url}`);
  const tls = cluster.getTlsFiles();
  if (tls !== undefined) {
    out(`TLS${cluster.mutualTls ? ' (mutual: clients must present a certificate)' : ''}, files in ${tls.dir}:`);
    out(`  CA certificate:     ${tls.caFile}`);
    out(`  client certificate: ${tls.clientCertFile}`);
    out(`  client key:         ${tls.clientKeyFile}`);
    out(`  e.g. redis-cli --tls --cacert ${tls.caFile} --cert ${tls.clientCertFile} --key ${tls.clientKeyFile} -c -p ${cluster.getRootNodes()[0]?.port}`);
  }
  out('nodes:');
  for (const n of nodes) {
    const what = n.role === 'master' ? `slots ${n.slots.map(([a, b]) => `${a}-${b}`).join(',')}` : `replica of ${n.masterPort}`;
    out(`  ${n.role.padEnd(7)} ${n.host}:${n.port} (bus ${n.busPort})  ${what}  pid ${n.pid}`);
  }
  out('Press Ctrl-C to stop the cluster.');
  const signal = await stopSignal;
  out(`slotwise: ${signal} received; stopping every node…`);
  await cluster.stop();
  out('slotwise: cluster stopped, files removed.');
  return 0;
}

async function clusterStatus(args: string[], out: Out): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, password: { type: 'string' }, user: { type: 'string' } },
    strict: true,
  });
  if (values.port === undefined) throw new CliError('cluster status needs --port of any node of the cluster');
  const host = values.host ?? '127.0.0.1';
  const port = intOption('port', values.port, 0);
  const client = new Redis({
    host,
    port,
    username: values.user,
    password: values.password,
    protocol: 2,
    lazyConnect: true,
    retryStrategy: null,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    disableClientInfo: true,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = parseInfo(String(await client.call('CLUSTER', 'INFO')));
    const view = parseClusterNodes(String(await client.call('CLUSTER', 'NODES')));
    out(`cluster at ${host}:${port}: state ${info.cluster_state}, ${info.cluster_slots_assigned} slots assigned, ${info.cluster_known_nodes} nodes, epoch ${info.cluster_current_epoch}`);
    for (const line of formatSlotMap(view)) out(line);
    return info.cluster_state === 'ok' ? 0 : 2;
  } catch (err) {
    throw new CliError(`cannot read the cluster at ${host}:${port}: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}

const CONNECT_OPTIONS = { port: { type: 'string' }, host: { type: 'string' }, password: { type: 'string' }, user: { type: 'string' } } as const;

/** Admin access to the cluster named by --host/--port (all nodes on that host). */
function connectAdmin(args: string[], command: string): { access: NodeAccess; pool: AdminPool; port: number; host: string } {
  const { values } = parseArgs({ args, options: CONNECT_OPTIONS, strict: true });
  if (values.port === undefined) throw new CliError(`cluster ${command} needs --port of any node of the cluster`);
  if (values.user !== undefined && values.password === undefined) throw new CliError('--user needs --password');
  const host = values.host ?? '127.0.0.1';
  const port = intOption('port', values.port, 0);
  const auth = values.password === undefined ? undefined : { password: values.password, ...(values.user === undefined ? {} : { username: values.user }) };
  const pool = new AdminPool(() => host, auth);
  const migrateAuth = auth === undefined ? [] : auth.username === undefined ? ['AUTH', auth.password] : ['AUTH2', auth.username, auth.password];
  return { access: { host, call: (p, c, ...a) => pool.call(p, c, ...a), migrateAuth }, pool, port, host };
}

async function clusterCheck(args: string[], out: Out): Promise<number> {
  const { access, pool, port, host } = connectAdmin(args, 'check');
  try {
    const masters = await readMasters(access, [port]);
    const open = openSlots(masters);
    const covered = new Set<number>();
    for (const m of masters) for (const [a, b] of m.self.slots) for (let s = a; s <= b; s++) covered.add(s);
    const byId = new Map(masters.map((m) => [m.id, m.port]));
    const name = (id: string) => (byId.has(id) ? `${host}:${byId.get(id)}` : `${id.slice(0, 8)} (not a master now)`);
    out(`cluster at ${host}:${port}: ${masters.length} masters, ${covered.size} of ${SLOT_COUNT} slots covered, ${open.length} open slot${open.length === 1 ? '' : 's'}`);
    for (const o of open) {
      const parts = [
        ...o.migrating.map((m) => `migrating on ${host}:${m.port} to ${name(m.to)}`),
        ...o.importing.map((m) => `importing on ${host}:${m.port} from ${name(m.from)}`),
      ];
      out(`  slot ${o.slot}: ${parts.join('; ')}`);
    }
    if (open.length > 0) out(`Repair: slotwise cluster fix --port ${port}${host === '127.0.0.1' ? '' : ` --host ${host}`}  (or redis-cli --cluster fix ${host}:${port})`);
    return open.length === 0 && covered.size === SLOT_COUNT ? 0 : 2;
  } finally {
    pool.close();
  }
}

async function clusterFix(args: string[], out: Out): Promise<number> {
  const { access, pool, port, host } = connectAdmin(args, 'fix');
  try {
    const fixes = await fixOpenSlots(access, [port]);
    if (fixes.length === 0) out(`cluster at ${host}:${port}: no open slot`);
    for (const f of fixes) out(`  slot ${f.slot}: ${f.action}; owner ${host}:${f.ownerPort}`);
    if (fixes.length > 0) out(`cluster at ${host}:${port}: ${fixes.length} open slot${fixes.length === 1 ? '' : 's'} closed`);
    return 0;
  } finally {
    pool.close();
  }
}

const COMMANDS: Record<string, (args: string[], out: Out) => Promise<number>> = {
  up: clusterUp,
  status: clusterStatus,
  check: clusterCheck,
  fix: clusterFix,
};

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], out: Out = (l) => process.stdout.write(`${l}\n`), err: Out = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [group, command, ...rest] = argv;
  try {
    if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
      out(USAGE);
      return 0;
    }
    if (group === 'top') {
      // Loaded only for `top`: it brings in the whole client, which the cluster commands do not need.
      const { parseTopArgs, top } = await import('./top.js');
      const a = parseTopArgs(argv.slice(1), intOption);
      if (a.port === 0) throw new CliError('top needs --port of any node of the cluster');
      return await top(a);
    }
    if (group === 'queue') {
      // Loaded only for `queue`: it brings in the whole client, which the cluster commands do not need.
      const { queueCommand } = await import('./queue-cli.js');
      return await queueCommand(argv.slice(1), out, intOption, (message) => new CliError(message));
    }
    const handler = group === 'cluster' && command !== undefined ? COMMANDS[command] : undefined;
    if (handler === undefined || !Object.hasOwn(COMMANDS, command!)) throw new CliError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    return await handler(rest, out);
  } catch (e) {
    if (e instanceof CliError || isSlotwiseError(e) || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`slotwise: ${(e as Error).message}`);
      if (e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) err(USAGE);
      return 1;
    }
    throw e;
  }
}

/** Entry point used by bin/slotwise.js and `tsx bin/cli.ts`. */
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2));
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) await run();
