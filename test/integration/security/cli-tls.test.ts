/** `slotwise cluster up --mtls` runs a mutual-TLS cluster and prints where the client certificates are. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../../../lib/index.js';
import { waitFor } from '../../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('security: slotwise cluster up --mtls', function () {
  this.timeout(60_000);

  it('prints the CA and client certificate files; a client using them works; Ctrl-C removes them', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'slotwise.js'), 'cluster', 'up', '--masters', '1', '--replicas', '0', '--mtls'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let client: ClusterClient | undefined;
    try {
      await waitFor(() => out.includes('Press Ctrl-C'), { timeoutMs: 30_000, what: `the CLI to report a running cluster; output so far:\n${out}` });
      assert.match(out, /rediss:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /TLS \(mutual: clients must present a certificate\)/);
      const file = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(out)![1]!;
      const [ca, cert, key] = [file('CA certificate'), file('client certificate'), file('client key')];
      const port = Number(/root nodes: 127\.0\.0\.1:(\d+)/.exec(out)![1]);
      client = new ClusterClient({
        rootNodes: [{ host: '127.0.0.1', port }],
        tls: { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) },
      });
      await client.connect();
      assert.equal(await client.set('cli-tls', '1'), 'OK');
      await client.quit();
      client = undefined;
      child.kill('SIGINT');
      assert.equal(await exited, 0, out);
      assert.equal(existsSync(ca), false, 'the TLS files were removed with the cluster');
    } finally {
      await client?.quit().catch(() => undefined);
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await exited;
      }
    }
  });
});
