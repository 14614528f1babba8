/**
 * Top self-time entries of a V8 .cpuprofile (bench/profile/load.ts or `node --cpu-prof`):
 *   tsx bench/profile/summary.ts <file.cpuprofile> [top=25]
 * Prints each function's share of all samples, idle excluded, with its file.
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
const file = process.argv[2];
if (!file) {
  console.error('usage: tsx bench/profile/summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[] };
const self = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const hits = n.hitCount ?? 0;
  if (n.callFrame.functionName === '(idle)' || hits === 0) continue;
  const url = n.callFrame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(lib|bench|testcontainers)\//, '$1/');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${url ? `(${url.split('/').slice(-2).join('/')})` : ''}`.trim();
  self.set(key, (self.get(key) ?? 0) + hits);
  total += hits;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log('| self % | function |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${((v / total) * 100).toFixed(1)} | ${k.replace(/\|/g, '\\|')} |`);

// Self time per area: which layer the CPU goes to.
const areaOf = (k: string): string => {
  if (k.includes('(router/') || k.includes('(node/') || k.includes('(core/') || k.includes('(topology/') || k.includes('(telemetry/')) return 'slotwise lib/';
  if (k.includes('(built/') || k.includes('(resp/')) return 'ioredis';
  if (k.includes('(bench/') || k.includes('(profile/')) return 'bench harness';
  if (k.startsWith('(garbage collector)')) return 'GC';
  if (/^(writeBuffer|writeUtf8String|writev|writevGeneric|writeGeneric|_writeGeneric)\b/.test(k)) return 'socket writes';
  return 'other (Node internals, promises, …)';
};
const areas = new Map<string, number>();
for (const [k, v] of self) areas.set(areaOf(k), (areas.get(areaOf(k)) ?? 0) + v);
console.log('\n| area | self % |\n|---|---|');
for (const [a, v] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`| ${a} | ${((v / total) * 100).toFixed(1)} |`);
