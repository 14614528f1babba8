import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessGone } from '../helpers/processes.js';
import { sharedCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAUNCHER = join(root, 'bin', 'slotwise.js');

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('engine: slotwise CLI', function () {
  it('cluster up runs a cluster in the foreground and tears it down on Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, [LAUNCHER, 'cluster', 'up', '--masters', '2', '--replicas', '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => out.includes('Press Ctrl-C'), { timeoutMs: 30_000, what: `the CLI to report a running cluster; output so far:\n${out}` });
    assert.match(out, /root nodes: 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+\n/);
    assert.match(out, /redis:\/\/127\.0\.0\.1:\d+/);
    const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    const port = Number(/root nodes: 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    assert.equal(pids.length, 2);

    const status = await run(['cluster', 'status', '--port', String(port)]);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /state ok, 16384 slots assigned, 2 nodes/);
    assert.match(status.out, /0-8191\s+8192 slots\s+master 127\.0\.0\.1:\d+/);

    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /SIGINT received; stopping every node/);
    assert.match(out, /cluster stopped, files removed/);
    await waitFor(() => pids.every(isProcessGone), { timeoutMs: 10_000, what: 'the CLI cluster processes to be gone' });
  });

  it('cluster status prints the slot map with replicas; bad input gets usage and exit code 1', async () => {
    const cluster = await sharedCluster();
    const status = await run(['cluster', 'status', '--port', String(cluster.getRootNodes()[0]!.port)]);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /state ok, 16384 slots assigned, 6 nodes/);
    assert.equal((status.out.match(/replicas: 127\.0\.0\.1:\d+/g) ?? []).length, 3, status.out);

    const bad = await run(['cluster', 'up', '--masters', 'three']);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /--masters expects a whole number, got "three"/);
    const zero = await run(['cluster', 'up', '--masters', '0']);
    assert.equal(zero.code, 1);
    assert.match(zero.out, /Invalid masters: 0 is not an integer from 1/);
    const missing = await run(['cluster', 'status']);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /needs --port/);
  });
});
