import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as dpdm from 'dpdm';

/**
 * The import graph of lib/ and testcontainers/, type imports included
 * (dpdm without its type-stripping transform): no cycles, and imports flow
 * down the layers of docs/ARCHITECTURE.md.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Graph = Map<string, string[]>;

const rel = (file: string) => path.relative(ROOT, path.resolve(ROOT, file));

describe('architecture (unit)', function () {
  this.timeout(120_000);
  const graph: Graph = new Map();
  let circulars: string[][];

  before(async () => {
    const tree = await dpdm.parseDependencyTree(['lib/**/*.ts', 'testcontainers/**/*.ts'], {
      context: ROOT,
      cwd: ROOT,
      tsconfig: path.join(ROOT, 'tsconfig.json'),
      transform: false,
      skipDynamicImports: false,
    });
    for (const [file, deps] of Object.entries(tree)) {
      if (file.includes('node_modules')) continue;
      const to = (deps ?? []).map((d) => d.id).filter((id): id is string => id !== null && !id.includes('node_modules'));
      graph.set(rel(file), to.map(rel));
    }
    circulars = dpdm.parseCircular(tree);
  });

  it('resolves the project\'s own imports, type imports included (so a cycle cannot hide)', () => {
    assert.ok(graph.size > 80, `only ${graph.size} files analysed`);
    // A value import and a type-only import, both written with .js suffixes.
    assert.ok(graph.get('lib/cluster-client.ts')?.includes('lib/client-core.ts'), 'cluster-client → client-core not seen');
    assert.ok(graph.get('lib/pipeline/pipeline.ts')?.includes('lib/router/router.ts'), 'type import pipeline → router not seen');
  });

  it('has no import cycle in lib/ or testcontainers/', () => {
    assert.deepEqual(circulars.map((c) => c.map(rel).join(' → ')), []);
  });

  /** Files of `from` that import a file matching `forbidden`. */
  function violations(from: (f: string) => boolean, forbidden: (f: string) => boolean): string[] {
    const out: string[] = [];
    for (const [file, deps] of graph) {
      if (!from(file)) continue;
      for (const d of deps) if (forbidden(d)) out.push(`${file} → ${d}`);
    }
    return out;
  }

  it('lib/core imports nothing above it (only itself and lib/errors.ts)', () => {
    assert.deepEqual(violations((f) => f.startsWith('lib/core/'), (d) => !d.startsWith('lib/core/') && d !== 'lib/errors.ts'), []);
  });

  it('the router, topology and node layers import no facade and no helper', () => {
    const lower = (f: string) => /^lib\/(router|topology|node|core)\//.test(f);
    const above = (d: string) => /^lib\/(cluster-client|client-core|cluster-ops)\.ts$/.test(d) || /^lib\/(lock|queue|session|topic|pubsub|pipeline|transaction|scan)\//.test(d);
    assert.deepEqual(violations(lower, above), []);
  });

  it('pipeline, transaction, scan and pub/sub reach the core only through the Router', () => {
    const consumers = (f: string) => /^lib\/(pipeline|transaction|scan|pubsub)\//.test(f) || f === 'lib/cluster-ops.ts';
    const core = (d: string) => /^lib\/(cluster-client|client-core)\.ts$/.test(d) || /^lib\/router\/(executor|splitter)\.ts$/.test(d) || /^lib\/node\/registry\.ts$/.test(d) || /^lib\/topology\/topology\.ts$/.test(d);
    assert.deepEqual(violations(consumers, core), []);
  });

  it('the engine does not depend on the client (only on lib/errors.ts and lib/core)', () => {
    const engine = (f: string) => f.startsWith('testcontainers/');
    const client = (d: string) => d.startsWith('lib/') && d !== 'lib/errors.ts' && !d.startsWith('lib/core/');
    assert.deepEqual(violations(engine, client), []);
  });
});
