import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessGone } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = join(root, 'test', 'fixtures', 'engine-child.ts');

interface Child {
  pids: number[];
  dirs: string[];
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Runs the fixture under tsx; resolves once it printed the pids and dirs of its cluster. */
function startChild(mode: string): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      const { pids, dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
      resolve({ pids, dirs, kill: (s) => child.kill(s), exited });
    });
    void exited.then(({ code, signal }) => reject(new Error(`child exited (${code ?? signal}) before reporting its cluster:\n${stderr}`)));
  });
}

async function assertNothingLeft(pids: number[], dirs: string[]): Promise<void> {
  assert.ok(pids.length >= 2 && dirs.length >= 2, 'the child reported its processes and dirs');
  await waitFor(() => pids.every(isProcessGone), { timeoutMs: 15_000, what: `redis-server pids ${pids.join(', ')} to be gone` });
  await waitFor(() => dirs.every((d) => !existsSync(d)), { timeoutMs: 15_000, what: `temp dirs ${dirs.join(', ')} to be removed` });
}

describe('engine: nothing outlives a dying test process', function () {
  // Started together: each child spends most of its ~2 s waiting for its cluster.
  let crashing: Promise<Child>;
  let terminated: Promise<Child>;
  let killed: Promise<Child>;
  before(() => {
    crashing = startChild('throw');
    terminated = startChild('wait');
    killed = startChild('wait');
    for (const p of [crashing, terminated, killed]) p.catch(() => undefined); // awaited in the tests
  });

  it('an uncaught exception after start() leaves no redis-server and no temp dir', async () => {
    const child = await crashing;
    const { code, stderr } = await child.exited;
    assert.equal(code, 1);
    assert.match(stderr, /the test process crashed/);
    await assertNothingLeft(child.pids, child.dirs);
  });

  it('SIGTERM: the engine cleans up and the process still terminates by the signal', async () => {
    const child = await terminated;
    child.kill('SIGTERM');
    const { signal } = await child.exited;
    assert.equal(signal, 'SIGTERM');
    await assertNothingLeft(child.pids, child.dirs);
  });

  it('SIGKILL (no handler can run): the watchdog kills the nodes', async () => {
    const child = await killed;
    child.kill('SIGKILL');
    const { signal } = await child.exited;
    assert.equal(signal, 'SIGKILL');
    await assertNothingLeft(child.pids, child.dirs);
  });

  it('a failing suite that forgets stop(): the root hook kills its nodes and fails the run', async () => {
    const { code, out } = await runMochaWithRootHooks('test/fixtures/leaky.fixture.ts');
    assert.notEqual(code, 0, out);
    assert.match(out, /this test fails on purpose/);
    assert.match(out, /Leaked resources after the test run \(cleaned up now\):\s+redis-server pid \d+ \(port \d+\) still running/);
    const pids = JSON.parse(/PIDS (\[.*\])/.exec(out)![1]!) as number[];
    assert.equal(pids.length, 1);
    await waitFor(() => pids.every(isProcessGone), { timeoutMs: 15_000, what: 'the leaked redis-server to be gone' });
  });
});

describe('root hook: the other leak checks fail the run too', function () {
  it('a leaked timer and server, and an unhandled rejection, are each reported', async () => {
    const { code, out } = await runMochaWithRootHooks('test/fixtures/leaky-handles.fixture.ts', ['--exit']);
    assert.notEqual(code, 0, out);
    assert.match(out, /Unhandled promise rejection\(s\) during "a suite that leaks handles[^"]*":\s+Error: nobody handles this rejection/);
    assert.match(out, /Leaked resources after the test run/);
    assert.match(out, /1 Timeout still active after every client and cluster was closed/);
    assert.match(out, /1 TCPServerWrap still active after every client and cluster was closed/);
  });
});

/** Runs one spec in a child mocha with the project's root hooks; resolves with its exit code and output. */
async function runMochaWithRootHooks(spec: string, extraArgs: string[] = []): Promise<{ code: number | null; out: string }> {
  const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const child = spawn(
    process.execPath,
    [mocha, '--no-config', '--import=tsx', '--timeout', '60000', ...extraArgs, '--require', 'test/setup/root-hooks.ts', spec],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}
