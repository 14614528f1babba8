/**
 * examples/integration-test: a user's own mocha test, run as its own mocha
 * process exactly as its header says (it starts and stops its own cluster,
 * kills a master). Passing here means the user-facing recipe works and that
 * the process exits by itself (nothing left open).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/examples.js';

describe('examples/integration-test (integration)', function () {
  this.timeout(180_000);

  it('the example mocha suite passes and its process exits', async () => {
    const mocha = join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [mocha, '--no-config', '--import=tsx', 'examples/integration-test/cart.test.ts'], { cwd: repoRoot, timeout: 170_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, output: stdout + stderr });
      });
    });
    assert.equal(code, 0, output);
    assert.match(output, /2 passing/);
  });
});
