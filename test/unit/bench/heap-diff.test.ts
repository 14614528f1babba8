import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('bench/soak/heap-diff.ts (the soak\'s snapshot comparison)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slotwise-heapdiff-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the pre-existing structure that took on new memory, with its path, and does not blame one that stayed the same', () => {
    // A child process: a registry whose map grows between two snapshots, and a steady map beside it.
    const script = [
      "import { writeHeapSnapshot } from 'node:v8';",
      'class NodeRegistryLike { constructor() { this.byAddress = new Map(); } }',
      'globalThis.registry = new NodeRegistryLike();',
      'globalThis.steady = new Map();',
      "for (let i = 0; i < 2000; i++) steady.set('s' + i, { v: 's'.repeat(40) + i });",
      "for (let i = 0; i < 10; i++) registry.byAddress.set('10.0.0.' + i, { stats: new Array(20).fill(i) });",
      `gc(); writeHeapSnapshot(${JSON.stringify(join(dir, 'a.heapsnapshot'))});`,
      "for (let i = 10; i < 3000; i++) registry.byAddress.set('10.0.' + (i >> 8) + '.' + (i & 255), { stats: new Array(20).fill(i) });",
      `gc(); writeHeapSnapshot(${JSON.stringify(join(dir, 'b.heapsnapshot'))});`,
    ].join('\n');
    execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/soak/heap-diff.ts', join(dir, 'a.heapsnapshot'), join(dir, 'b.heapsnapshot'), '--top', '5'], { cwd: root, encoding: 'utf8' });
    const holders = out.slice(out.indexOf('## Objects of B not in A'), out.indexOf('## Largest retained'));
    // The largest holder other than the synthetic root is the growing map, reached through the registry.
    const rows = holders.split('\n').filter((l) => l.includes(' | ') && !l.startsWith('new memory') && !l.includes('(synthetic)'));
    const row = rows[0]!;
    assert.match(row, /\| Map @\d+ \|/, holders);
    assert.match(row, /\.registry\.byAddress$/, row);
    const newKb = Number(/^\s*([\d.]+) KB/.exec(row)![1]);
    assert.ok(newKb > 200, `expected the new entries' memory (> 200 KB) under the map, got ${newKb} KB`);
    assert.ok(!holders.includes('.steady'), 'the steady map took on no memory and must not be listed');
    // Per-class growth: the arrays of the new entries.
    assert.match(out, /\n\(array\)\s+\d+ → \d+/);
  });
});
