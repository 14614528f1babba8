/** express-session is an optional peer: nothing reachable from the main entry may import it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Runtime (non-type) import specifiers of a TypeScript module. */
function runtimeImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) if (!m[2]) out.push(m[3]!);
  for (const m of src.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

describe('slotwise entry points (unit)', () => {
  it("the main entry's import graph never loads express-session; the adapter lives on slotwise/express-session", () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const stack = [resolve(root, 'lib/index.ts')];
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else packages.add(spec);
      }
    }
    assert.ok(seen.has(resolve(root, 'lib/session/session-store.ts')), 'the walk reaches the session store');
    assert.ok(!seen.has(resolve(root, 'lib/session/express-session.ts')));
    assert.ok(![...packages].some((p) => p.startsWith('express')), `packages: ${[...packages].join(', ')}`);

    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(pkg.exports!['./express-session'], { types: './dist/lib/session/express-session.d.ts', default: './dist/lib/session/express-session.js' });
    assert.deepEqual(pkg.peerDependenciesMeta!['express-session'], { optional: true });
    assert.equal(pkg.dependencies!['express-session'], undefined);
    assert.equal((pkg.optionalDependencies ?? {})['express-session'], undefined, 'optionalDependencies would install it for everyone');
  });
});
