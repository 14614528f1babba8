/**
 * `node --max-old-space-size=4096 --import tsx bench/soak/heap-diff.ts A.heapsnapshot B.heapsnapshot [--top 25]`
 *
 * What grew between two V8 heap snapshots of the SAME process (e.g. the soak's
 * `--heap-snapshots 60,600`): V8 keeps object ids stable within a process, so
 * an object of B whose id is not in A was allocated in between and survived.
 * Prints:
 *  1. totals, and per snapshot the self size by node type;
 *  2. per constructor (or node type): count and self size in A and B, sorted by growth;
 *  3. the new objects' memory grouped by their HOLDER — the nearest dominator
 *     that already existed in A (a Map, an array, a class instance that took on
 *     the new memory), with the holder's retaining path from the GC roots.
 *     Growth of a structure shows up here under the structure's own name.
 * Retained sizes come from the dominator tree (weak edges ignored), as in DevTools.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snap {
  readonly file: string;
  readonly n: number;
  readonly type: Uint8Array;
  readonly name: Uint32Array;
  readonly id: Float64Array;
  readonly self: Float64Array;
  /** First edge index of node i (edges of i are firstEdge[i] … firstEdge[i+1]-1). */
  readonly firstEdge: Uint32Array;
  readonly edgeType: Uint8Array;
  readonly edgeName: Uint32Array;
  readonly edgeTo: Uint32Array;
  readonly strings: string[];
  readonly nodeTypes: string[];
  readonly edgeTypes: string[];
}

function load(file: string): Snap {
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = j.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const [fType, fName, fId, fSelf, fEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => m.node_fields.indexOf(f)) as [number, number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => m.edge_fields.indexOf(f)) as [number, number, number];
  const n = j.nodes.length / nf;
  const type = new Uint8Array(n);
  const name = new Uint32Array(n);
  const id = new Float64Array(n);
  const self = new Float64Array(n);
  const firstEdge = new Uint32Array(n + 1);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const b = i * nf;
    type[i] = j.nodes[b + fType]!;
    name[i] = j.nodes[b + fName]!;
    id[i] = j.nodes[b + fId]!;
    self[i] = j.nodes[b + fSelf]!;
    firstEdge[i] = e;
    e += j.nodes[b + fEdges]!;
  }
  firstEdge[n] = e;
  const edgeType = new Uint8Array(e);
  const edgeName = new Uint32Array(e);
  const edgeTo = new Uint32Array(e);
  for (let k = 0; k < e; k++) {
    edgeType[k] = j.edges[k * ef + eType]!;
    edgeName[k] = j.edges[k * ef + eName]!;
    edgeTo[k] = j.edges[k * ef + eTo]! / nf;
  }
  return { file, n, type, name, id, self, firstEdge, edgeType, edgeName, edgeTo, strings: j.strings, nodeTypes: m.node_types[0], edgeTypes: m.edge_types[0] };
}

/** Constructor name for objects, "(type) name" for the rest, shortened. */
function className(s: Snap, i: number): string {
  const t = s.nodeTypes[s.type[i]!]!;
  const nm = s.strings[s.name[i]!] ?? '';
  if (t === 'object' || t === 'native') return nm.length > 60 ? `${nm.slice(0, 60)}…` : nm;
  if (t === 'closure') return `(closure) ${nm || 'anonymous'}`;
  if (t === 'code') return '(code)';
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return '(string)';
  return `(${t})`;
}

function edgeLabel(s: Snap, k: number): string {
  const t = s.edgeTypes[s.edgeType[k]!]!;
  if (t === 'element' || t === 'hidden') return `[${s.edgeName[k]}]`;
  const nm = s.strings[s.edgeName[k]!] ?? '?';
  return t === 'context' ? `{${nm}}` : `.${nm}`;
}

/**
 * Immediate dominators (Cooper, Harvey & Kennedy's iterative algorithm on
 * reverse post-order) and retained sizes; node 0 is the root. Weak edges
 * do not retain. Also the BFS distance from the root, for retaining paths.
 */
function dominators(s: Snap): { idom: Int32Array; retained: Float64Array; dist: Int32Array } {
  const { n, firstEdge, edgeTo, edgeType } = s;
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  // Reverse post-order by iterative DFS.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const stack: number[] = [0];
  const next = new Uint32Array(n);
  const seen = new Uint8Array(n);
  seen[0] = 1;
  for (let i = 0; i < n; i++) next[i] = firstEdge[i]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (next[v]! < firstEdge[v + 1]!) {
      const k = next[v]!++;
      if (edgeType[k] === weak || edgeType[k] === shortcut) continue;
      const w = edgeTo[k]!;
      if (seen[w]) continue;
      seen[w] = 1;
      stack.push(w);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      post.push(v);
    }
  }
  for (let i = 0; i < post.length; i++) order[post[i]!] = i; // post-order number
  // Predecessors (only reachable ones).
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let k = firstEdge[v]!; k < firstEdge[v + 1]!; k++) {
      if (edgeType[k] === weak || edgeType[k] === shortcut) continue;
      predCount[edgeTo[k]! + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Uint32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let k = firstEdge[v]!; k < firstEdge[v + 1]!; k++) {
      if (edgeType[k] === weak || edgeType[k] === shortcut) continue;
      preds[fill[edgeTo[k]!]!++] = v;
    }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = post.length - 1; i >= 0; i--) {
      const v = post[i]!;
      if (v === 0) continue;
      let d = -1;
      for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
        const u = preds[p]!;
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (let i = 0; i < post.length; i++) {
    const v = post[i]!; // children come before parents in post-order of the DFS tree, not of the dominator tree: sum separately below
    retained[v] = s.self[v]!;
  }
  // Sum up the dominator tree: process nodes by decreasing depth.
  const depth = new Int32Array(n).fill(-1);
  depth[0] = 0;
  const depthOf = (v: number): number => {
    const chain: number[] = [];
    let x = v;
    while (depth[x] === -1) {
      chain.push(x);
      x = idom[x]!;
    }
    let d = depth[x]!;
    for (let c = chain.length - 1; c >= 0; c--) depth[chain[c]!] = ++d;
    return depth[v]!;
  };
  const reach = post.filter((v) => idom[v] !== -1);
  for (const v of reach) depthOf(v);
  reach.sort((a, b) => depth[b]! - depth[a]!);
  for (const v of reach) if (v !== 0) retained[idom[v]!]! += retained[v]!;
  // BFS distances for short retaining paths.
  const dist = new Int32Array(n).fill(-1);
  dist[0] = 0;
  const q = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  q[tail++] = 0;
  while (head < tail) {
    const v = q[head++]!;
    for (let k = firstEdge[v]!; k < firstEdge[v + 1]!; k++) {
      if (edgeType[k] === weak || edgeType[k] === shortcut) continue;
      const w = edgeTo[k]!;
      if (dist[w] !== -1) continue;
      dist[w] = dist[v]! + 1;
      q[tail++] = w;
    }
  }
  return { idom, retained, dist };
}

/** A short retaining path of node v: at each step, a retainer closest to the root. */
function pathTo(s: Snap, v: number, dist: Int32Array, retainers: (w: number) => Array<[number, number]>): string {
  const parts: string[] = [];
  let x = v;
  for (let steps = 0; x !== 0 && steps < 14; steps++) {
    const best = retainers(x).filter(([u]) => dist[u] !== -1 && dist[u]! < dist[x]!).sort((a, b) => dist[a[0]]! - dist[b[0]]!)[0];
    if (best === undefined) break;
    const [u, k] = best;
    parts.unshift(`${edgeLabel(s, k)}`);
    x = u;
    if (u !== 0 && dist[u]! <= 2) {
      parts.unshift(`(${className(s, u)})`);
      break;
    }
  }
  return parts.join('');
}

function retainerIndex(s: Snap): (w: number) => Array<[number, number]> {
  const count = new Uint32Array(s.n + 1);
  for (let k = 0; k < s.edgeTo.length; k++) count[s.edgeTo[k]! + 1]!++;
  for (let i = 0; i < s.n; i++) count[i + 1]! += count[i]!;
  const from = new Uint32Array(s.edgeTo.length);
  const edge = new Uint32Array(s.edgeTo.length);
  const fill = count.slice(0, s.n);
  for (let v = 0; v < s.n; v++) {
    for (let k = s.firstEdge[v]!; k < s.firstEdge[v + 1]!; k++) {
      const at = fill[s.edgeTo[k]!]!++;
      from[at] = v;
      edge[at] = k;
    }
  }
  const weak = s.edgeTypes.indexOf('weak');
  return (w) => {
    const out: Array<[number, number]> = [];
    for (let p = count[w]!; p < count[w + 1]!; p++) if (s.edgeType[edge[p]!] !== weak) out.push([from[p]!, edge[p]!]);
    return out;
  };
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const signedKb = (b: number) => `${b >= 0 ? '+' : ''}${(b / 1024).toFixed(1)} KB`;

const { values: opts, positionals: files } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
const TOP = Number(opts.top ?? 25);
if (files.length !== 2) {
  console.error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot [--top N]');
  process.exit(2);
}
const a = load(files[0]!);
const b = load(files[1]!);
const da = dominators(a);
const db = dominators(b);
const live = (s: Snap, d: { idom: Int32Array }) => {
  let total = 0;
  for (let i = 0; i < s.n; i++) if (d.idom[i] !== -1) total += s.self[i]!;
  return total;
};
console.log(`A ${a.file}: ${a.n} nodes, ${kb(live(a, da))} reachable`);
console.log(`B ${b.file}: ${b.n} nodes, ${kb(live(b, db))} reachable`);

const byType = (s: Snap, d: { idom: Int32Array }) => {
  const m = new Map<string, number>();
  for (let i = 0; i < s.n; i++) if (d.idom[i] !== -1) m.set(s.nodeTypes[s.type[i]!]!, (m.get(s.nodeTypes[s.type[i]!]!) ?? 0) + s.self[i]!);
  return m;
};
const ta = byType(a, da);
const tb = byType(b, db);
console.log('\n## Self size by node type (reachable)\n');
for (const t of new Set([...ta.keys(), ...tb.keys()])) console.log(`${t.padEnd(22)} ${kb(ta.get(t) ?? 0).padStart(12)} ${kb(tb.get(t) ?? 0).padStart(12)} ${signedKb((tb.get(t) ?? 0) - (ta.get(t) ?? 0)).padStart(12)}`);

const byClass = (s: Snap, d: { idom: Int32Array }) => {
  const m = new Map<string, { n: number; self: number }>();
  for (let i = 0; i < s.n; i++) {
    if (d.idom[i] === -1) continue;
    const c = className(s, i);
    const e = m.get(c) ?? { n: 0, self: 0 };
    e.n++;
    e.self += s.self[i]!;
    m.set(c, e);
  }
  return m;
};
const ca = byClass(a, da);
const cb = byClass(b, db);
const rows = [...new Set([...ca.keys(), ...cb.keys()])].map((c) => ({ c, a: ca.get(c) ?? { n: 0, self: 0 }, b: cb.get(c) ?? { n: 0, self: 0 } }));
rows.sort((x, y) => Math.abs(y.b.self - y.a.self) - Math.abs(x.b.self - x.a.self));
console.log(`\n## Per class (count A → B, self size A → B), top ${TOP} by |growth|\n`);
for (const r of rows.slice(0, TOP)) {
  console.log(`${r.c.padEnd(48)} ${String(r.a.n).padStart(8)} → ${String(r.b.n).padEnd(8)} ${kb(r.a.self).padStart(11)} → ${kb(r.b.self).padEnd(11)} ${signedKb(r.b.self - r.a.self)}`);
}

// New objects of B (id not in A), grouped by the nearest dominator that existed in A.
const idsA = new Set<number>();
for (let i = 0; i < a.n; i++) if (da.idom[i] !== -1) idsA.add(a.id[i]!);
const isNew = new Uint8Array(b.n);
let newSelf = 0;
let newCount = 0;
for (let i = 0; i < b.n; i++) {
  if (db.idom[i] === -1 || idsA.has(b.id[i]!)) continue;
  isNew[i] = 1;
  newSelf += b.self[i]!;
  newCount++;
}
console.log(`\n## Objects of B not in A: ${newCount}, ${kb(newSelf)} self\n`);
const holders = new Map<number, { self: number; count: number; classes: Map<string, number> }>();
for (let i = 0; i < b.n; i++) {
  if (!isNew[i]) continue;
  let h = db.idom[i]!;
  while (h !== 0 && isNew[h]) h = db.idom[h]!;
  const e = holders.get(h) ?? { self: 0, count: 0, classes: new Map() };
  e.self += b.self[i]!;
  e.count++;
  const c = className(b, i);
  e.classes.set(c, (e.classes.get(c) ?? 0) + b.self[i]!);
  holders.set(h, e);
}
const retainersB = retainerIndex(b);
const top = [...holders].sort((x, y) => y[1].self - x[1].self).slice(0, TOP);
console.log('new memory | held by (an object that existed in A) | retained by the holder now | what the new memory is | path');
for (const [h, e] of top) {
  const what = [...e.classes].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([c, s]) => `${c} ${kb(s)}`).join(', ');
  console.log(`${kb(e.self).padStart(10)} | ${className(b, h)} @${b.id[h]} | ${kb(db.retained[h]!)} | ${e.count} objects: ${what} | ${pathTo(b, h, db.dist, retainersB)}`);
}

// Biggest retainers in B, for orientation.
console.log(`\n## Largest retained sizes in B (objects, not the roots)\n`);
const big: number[] = [];
for (let i = 0; i < b.n; i++) if (db.idom[i] !== -1 && b.nodeTypes[b.type[i]!] !== 'synthetic' && db.dist[i]! > 1) big.push(i);
big.sort((x, y) => db.retained[y]! - db.retained[x]!);
const shown = new Set<number>();
let printed = 0;
for (const i of big) {
  if (printed >= TOP) break;
  // Skip objects dominated by one already shown (a chain of wrappers around the same memory).
  let d = db.idom[i]!;
  let nested = false;
  while (d !== 0) {
    if (shown.has(d)) {
      nested = true;
      break;
    }
    d = db.idom[d]!;
  }
  if (nested) continue;
  shown.add(i);
  printed++;
  console.log(`${kb(db.retained[i]!).padStart(10)} ${className(b, i)} @${b.id[i]} ${pathTo(b, i, db.dist, retainersB)}`);
}
