/**
 * Process-wide record of every redis-server the engine started, every temp
 * dir it made and every container and network it created, so that nothing
 * outlives the Node process that owns it:
 *
 * - normal `stop()` removes entries one by one;
 * - `process.on('exit')` (normal end, `process.exit()`, uncaught exception)
 *   SIGKILLs survivors and deletes their dirs synchronously;
 * - SIGINT/SIGTERM/SIGHUP: when no one else listens for the signal, we clean up
 *   and re-raise it so the default behaviour (termination) still happens; when
 *   the host app listens, it decides, and the exit hook cleans up later;
 * - a detached watchdog process (one per Node process, alive only while there is
 *   something to guard) notices when its parent is gone — even after SIGKILL,
 *   which runs no handler — and kills the recorded pids, then removes the
 *   recorded containers and networks through the container engine's API
 *   (no reaper container needed; testcontainers' Ryuk is never started).
 *
 * The watchdog only ever kills pids it was given, and only after checking that
 * the process is still a redis-server (or the test ZooKeeper server) on the
 * recorded port or dir, so a recycled pid can never hit an unrelated process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';

/** A redis-server started by the engine and not yet reaped. */
export interface LiveEngineProcess {
  /** Process id of the redis-server. */
  readonly pid: number;
  /** Its client port. */
  readonly port: number;
  /** Its working directory (a temp dir of the engine). */
  readonly dir: string;
}

interface Tracked extends LiveEngineProcess {
  readonly child: ChildProcess;
}

const processes = new Map<number, Tracked>();
const dirs = new Set<string>();
/** Containers and networks by id, with how to reach the engine that runs them. */
const containers = new Map<string, DockerEndpoint>();
const networks = new Map<string, DockerEndpoint>();

/** How the watchdog reaches the container engine's HTTP API (a Unix socket, or plain TCP). */
export interface DockerEndpoint {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;
let watchdog: ChildProcess | undefined;

/** True for a directory this engine may delete: a `slotwise-*` dir directly in the OS temp dir. */
function isEngineTempDir(dir: string): boolean {
  return dirname(resolve(dir)) === resolve(tmpdir()) && basename(dir).startsWith('slotwise-');
}

/** redis-server processes started by the engine whose exit has not been observed yet. */
export function liveEngineProcesses(): LiveEngineProcess[] {
  return [...processes.values()].map(({ pid, port, dir }) => ({ pid, port, dir }));
}

/** Temp dirs made by the engine and not yet removed. */
export function liveEngineTempDirs(): string[] {
  return [...dirs];
}

/** Records a freshly spawned redis-server; it is forgotten when its 'exit' event fires. */
export function trackProcess(child: ChildProcess, port: number, dir: string): void {
  const pid = child.pid;
  if (pid === undefined) return;
  processes.set(pid, { pid, port, dir, child });
  child.once('exit', () => {
    processes.delete(pid);
    tellWatchdog({ op: 'del', pid });
    idleCheck();
  });
  ensureGuards();
  tellWatchdog({ op: 'add', pid, port, dir });
}

/** Container ids of the engine not yet removed. */
export function liveEngineContainers(): string[] {
  return [...containers.keys()];
}

/**
 * Records a container (or, with `kind: 'network'`, a network) so that the
 * watchdog removes it when this process dies without stopping its cluster —
 * there is no reaper container (Ryuk) to rely on.
 */
export function trackContainer(id: string, endpoint: DockerEndpoint, kind: 'container' | 'network' = 'container'): void {
  (kind === 'container' ? containers : networks).set(id, endpoint);
  ensureGuards();
  tellWatchdog({ op: kind, id, endpoint });
}

/** Forgets a container or network after it was removed. */
export function untrackContainer(id: string, kind: 'container' | 'network' = 'container'): void {
  (kind === 'container' ? containers : networks).delete(id);
  tellWatchdog({ op: `un${kind}`, id });
  idleCheck();
}

/** Records a temp dir; {@link untrackDir} after it was removed. */
export function trackDir(dir: string): void {
  dirs.add(dir);
  ensureGuards();
  tellWatchdog({ op: 'dir', dir });
}

/** Forgets a temp dir (call after removing it). */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
  tellWatchdog({ op: 'undir', dir });
  idleCheck();
}

/**
 * Emergency teardown: SIGKILLs every tracked process, waits for each exit,
 * removes every tracked dir. Returns what it had to clean (for leak reports).
 */
export async function killAllEngineProcesses(timeoutMs = 10_000): Promise<{
  /** The processes that were killed. */
  processes: LiveEngineProcess[];
  /** The temp dirs that were removed. */
  dirs: string[];
}> {
  const leakedProcs = liveEngineProcesses();
  const leakedDirs = liveEngineTempDirs();
  await Promise.all(
    [...processes.values()].map(
      ({ child }) =>
        new Promise<void>((res) => {
          if (child.exitCode !== null || child.signalCode !== null) return res();
          const timer = setTimeout(res, timeoutMs);
          child.once('exit', () => {
            clearTimeout(timer);
            res();
          });
          child.kill('SIGKILL');
        }),
    ),
  );
  for (const dir of leakedDirs) {
    removeDirSync(dir);
    untrackDir(dir);
  }
  return { processes: leakedProcs, dirs: leakedDirs };
}

/** Deletes an engine temp dir; refuses anything that is not one. */
export function removeDirSync(dir: string): void {
  if (!isEngineTempDir(dir)) return;
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function killAllSync(): void {
  for (const { pid } of processes.values()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) {
    try {
      removeDirSync(dir);
    } catch {
      // best effort while exiting
    }
  }
}

function onExit(): void {
  killAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal: respect their choice (they may keep running).
  if (process.listenerCount(signal) > 1) return;
  killAllSync();
  removeHandlers();
  process.kill(process.pid, signal);
}

function ensureGuards(): void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', onExit);
    // First in line: when it runs, `once` listeners of the host are still registered and counted.
    for (const s of SIGNALS) process.prependListener(s, onSignal);
  }
  if (watchdog === undefined) startWatchdog();
}

function removeHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', onExit);
  for (const s of SIGNALS) process.off(s, onSignal);
}

function idleCheck(): void {
  if (processes.size > 0 || dirs.size > 0 || containers.size > 0 || networks.size > 0) return;
  removeHandlers();
  stopWatchdog();
}

function tellWatchdog(msg: Record<string, unknown>): void {
  const stdin = watchdog?.stdin;
  if (stdin && stdin.writable) stdin.write(`${JSON.stringify(msg)}\n`);
}

// Plain CommonJS so it runs under `node -e` without any loader.
const WATCHDOG_SOURCE = `
const fs = require('fs'), cp = require('child_process');
const parent = Number(process.argv[1]);
const procs = new Map(), dirs = new Set(), ctrs = new Map(), nets = new Map();
let buf = '', done = false;
function del(ep, path) {
  return new Promise((res) => {
    const opts = ep.socketPath ? { socketPath: ep.socketPath } : { host: ep.host, port: ep.port };
    const req = require('http').request({ ...opts, path, method: 'DELETE', timeout: 20000 }, (r) => { r.resume(); r.on('end', res); });
    req.on('error', res); req.on('timeout', () => { req.destroy(); res(); }); req.end();
  });
}
function isOurs(p) {
  let cmd = '';
  try { cmd = fs.readFileSync('/proc/' + p.pid + '/cmdline', 'utf8').split('\\0').join(' '); }
  catch { try { cmd = cp.execFileSync('ps', ['-o', 'command=', '-p', String(p.pid)], { encoding: 'utf8' }); } catch { return false; } }
  if (!cmd.includes('redis-server') && !cmd.includes('org.apache.zookeeper')) return false;
  return new RegExp(':' + p.port + '(\\\\D|$)').test(cmd) || cmd.includes(p.dir);
}
function cleanup() {
  if (done) return; done = true;
  for (const p of procs.values()) { if (isOurs(p)) { try { process.kill(p.pid, 'SIGKILL'); } catch {} } }
  Promise.all([...ctrs].map(([id, ep]) => del(ep, '/containers/' + id + '?force=true&v=true')))
    .then(() => Promise.all([...nets].map(([id, ep]) => del(ep, '/networks/' + id))))
    .then(() => {
      for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
      process.exit(0);
    });
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
    if (m.op === 'add') procs.set(m.pid, m);
    else if (m.op === 'del') procs.delete(m.pid);
    else if (m.op === 'dir') dirs.add(m.dir);
    else if (m.op === 'undir') dirs.delete(m.dir);
    else if (m.op === 'container') ctrs.set(m.id, m.endpoint);
    else if (m.op === 'uncontainer') ctrs.delete(m.id);
    else if (m.op === 'network') nets.set(m.id, m.endpoint);
    else if (m.op === 'unnetwork') nets.delete(m.id);
  }
});
process.stdin.on('end', cleanup);
process.stdin.on('error', cleanup);
setInterval(() => { if (process.ppid !== parent) cleanup(); }, 1000);
`;

function startWatchdog(): void {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // never load tsx or test hooks into the watchdog
  const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(process.pid)], {
    detached: true, // its own process group: a Ctrl-C aimed at us must not kill it before it acts
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  child.on('error', () => {
    if (watchdog === child) watchdog = undefined;
  });
  child.once('exit', () => {
    if (watchdog === child) watchdog = undefined;
  });
  child.stdin?.on('error', () => {});
  // The watchdog must never keep the host process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog = child;
  for (const p of processes.values()) tellWatchdog({ op: 'add', pid: p.pid, port: p.port, dir: p.dir });
  for (const dir of dirs) tellWatchdog({ op: 'dir', dir });
  for (const [id, endpoint] of containers) tellWatchdog({ op: 'container', id, endpoint });
  for (const [id, endpoint] of networks) tellWatchdog({ op: 'network', id, endpoint });
}

function stopWatchdog(): void {
  const child = watchdog;
  if (child === undefined) return;
  watchdog = undefined;
  // EOF with an empty list: the watchdog exits on its own without killing anything.
  child.stdin?.end();
}
