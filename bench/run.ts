/**
 * `npm run bench [-- scenario …]`: runs benchmark scenarios one after the
 * other (never in parallel: they measure the same 2 cores). Each scenario
 * starts its own fresh cluster, runs slotwise and its peers in that one run,
 * and writes docs/benchmarks/<name>.{json,md,svg}.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const all = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n=== bench: ${name} ===`);
  const mod = (await import(pathToFileURL(join(dir, `${name}.ts`)).href)) as { run: () => Promise<void> };
  await mod.run();
}
