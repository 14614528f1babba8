/** The root hook catches a ClusterClient that was never closed (and the sockets it holds). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('leak checks (integration)', function () {
  this.timeout(60_000);

  it('a suite that never closes its client fails the run with a clear report', async () => {
    const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const child = spawn(process.execPath, [mocha, '--no-config', '--import=tsx', '--timeout', '60000', '--require', 'test/setup/root-hooks.ts', 'test/fixtures/leaky-client.fixture.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0, out);
    assert.match(out, /1 passing/);
    assert.match(out, /Leaked resources after the test run \(cleaned up now\):\s+a ClusterClient \(status ready\) was never closed/);
  });
});
