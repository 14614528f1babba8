/**
 * `slotwise queue stats|peek|retry-dead|drain NAME --port N`: operator
 * commands for a WorkQueue, through a ClusterClient (loaded only for these
 * commands). The queue's --partitions, --priorities, --prefix and --group must match the
 * ones its producers and workers use.
 */
import { parseArgs } from 'node:util';
import { ClusterClient, WorkQueue } from '../lib/index.js';
import { drainPartitions, peekJobs } from '../lib/queue/admin.js';
import { unwrapTrace } from '../lib/queue/trace.js';

type Out = (line: string) => void;
type IntOption = (name: string, value: string | undefined, fallback: number) => number;

const COMMANDS = new Set(['stats', 'peek', 'retry-dead', 'drain']);
/** Most priority levels a WorkQueue may have (its `priorities` option's upper bound). */
const MAX_PRIORITIES = 16;

/** Runs one queue subcommand; resolves with the exit code. Usage errors throw `usage(message)`. */
export async function queueCommand(argv: string[], out: Out, intOption: IntOption, usage: (message: string) => Error): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || !COMMANDS.has(command)) throw usage(`unknown command "queue ${command ?? ''}"`.trimEnd());
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, password: { type: 'string' }, user: { type: 'string' },
      partitions: { type: 'string' }, priorities: { type: 'string' }, prefix: { type: 'string' }, group: { type: 'string' }, limit: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (name === undefined || positionals.length > 1) throw usage(`queue ${command} needs exactly one queue NAME`);
  if (values.port === undefined) throw usage(`queue ${command} needs --port of any node of the cluster`);
  if (values.user !== undefined && values.password === undefined) throw usage('--user needs --password');
  const limitGiven = values.limit !== undefined;
  const limit = intOption('limit', values.limit, 10);
  if (limit < 1) throw usage(`--limit expects a whole number ≥ 1, got "${values.limit}"`);
  const client = new ClusterClient({
    rootNodes: [{ host: values.host ?? '127.0.0.1', port: intOption('port', values.port, 0) }],
    ...(values.password === undefined ? {} : { password: values.password }),
    ...(values.user === undefined ? {} : { username: values.user }),
    connectionName: 'slotwise-queue-cli',
    telemetry: { tracing: false, metrics: false },
  });
  // Validated before connecting: bad options cost nothing.
  const queue = new WorkQueue(client, name, {
    partitions: intOption('partitions', values.partitions, 1),
    priorities: intOption('priorities', values.priorities, 1),
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
    ...(values.group === undefined ? {} : { group: values.group }),
    serializer: { serialize: (v) => String(v), deserialize: (s) => s },
  });
  try {
    await client.connect();
    await warnMoreLevels(queue, client, out);
    switch (command) {
      case 'stats':
        return await stats(queue, client, out);
      case 'peek':
        return await peek(queue, client, limit, out);
      case 'retry-dead': {
        const n = await queue.retryDeadLetters(limitGiven ? { limit } : {});
        out(`queue ${name}: ${n} dead-lettered job${n === 1 ? '' : 's'} moved back to the ready streams`);
        return 0;
      }
      default: {
        const d = await drainPartitions(client, queue.partitions, queue.options.group);
        out(`queue ${name}: drained ${d.waiting} waiting and ${d.delayed} delayed job${d.waiting + d.delayed === 1 ? '' : 's'}; jobs in flight run on`);
        return 0;
      }
    }
  } finally {
    await queue.close({ timeoutMs: 0 });
    await client.quit();
  }
}

/**
 * A ready stream of a level past --priorities means the queue has more levels
 * than we were told: the commands would not see (or drain) those jobs.
 */
async function warnMoreLevels(queue: WorkQueue<unknown>, client: ClusterClient, out: Out): Promise<void> {
  const levels = queue.options.priorities;
  if (levels >= MAX_PRIORITIES) return;
  for (const pk of queue.partitions) {
    // Every level stream of a partition shares its hash tag: one EXISTS per partition.
    const beyond = Array.from({ length: MAX_PRIORITIES - levels }, (_, k) => `${pk.ready}:${levels + k}`);
    if ((await client.exists(...beyond)) > 0) {
      out(`warning: partition ${pk.index} has a ready stream of a priority level ≥ ${levels}: the queue has more levels than --priorities ${levels}; pass its \`priorities\``);
      return;
    }
  }
}

async function stats(queue: WorkQueue<unknown>, client: ClusterClient, out: Out): Promise<number> {
  const s = await queue.stats();
  out(`queue ${queue.name} (${queue.partitions.length} partition${queue.partitions.length === 1 ? '' : 's'}): waiting ${s.waiting}, delayed ${s.delayed}, in flight ${s.inFlight}, dead ${s.dead}`);
  s.partitions.forEach((p, i) => {
    const pk = queue.partitions[i]!;
    const master = client.topology?.shardOf(pk.slot)?.master.address ?? '?';
    out(`  partition ${i} (slot ${pk.slot}, master ${master}): waiting ${p.waiting}, delayed ${p.delayed}, in flight ${p.inFlight}, dead ${p.dead}`);
  });
  for (const r of await queue.repeatables()) {
    const when = r.every !== undefined ? `every ${r.every} ms` : `cron "${r.cron}" (${r.tz})`;
    out(`  repeatable ${r.key}: ${when}${r.priority > 0 ? `, priority ${r.priority}` : ''}, next tick ${r.nextTickAt === undefined ? 'none' : new Date(r.nextTickAt).toISOString()}`);
  }
  return 0;
}

async function peek(queue: WorkQueue<unknown>, client: ClusterClient, limit: number, out: Out): Promise<number> {
  const jobs = await peekJobs(client, queue.partitions, queue.options.group, limit);
  const dead = await queue.deadLetters({ limit });
  out(`queue ${queue.name}: ${jobs.length} job${jobs.length === 1 ? '' : 's'} shown, ${dead.length} dead letter${dead.length === 1 ? '' : 's'} (at most ${limit} of each kind per partition${queue.options.priorities > 1 ? ' and priority level' : ''})`);
  const short = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}…` : text);
  for (const j of jobs) {
    const due = j.dueAt === undefined ? '' : ` due ${new Date(j.dueAt).toISOString()}`;
    const level = queue.options.priorities > 1 ? ` priority ${j.priority}` : '';
    out(`  ${j.state.padEnd(9)} p${j.partition} ${j.jobId}${level} attempts ${j.attempts}${due} data ${short(unwrapTrace(j.data).data)}`);
  }
  for (const d of dead) out(`  dead      p${d.partition} ${d.jobId} attempts ${d.attempts} error ${short(d.error)} data ${short(String(d.data))}`);
  return 0;
}
