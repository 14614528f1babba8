/**
 * `slotwise top`: what one refresh samples, and the screen drawn from two
 * consecutive samples (rates are deltas). Pure: no I/O here.
 */
import { SLOT_COUNT } from '../lib/core/slots.js';

/** One node as sampled by one refresh. */
export interface NodeSample {
  readonly address: string;
  readonly role: 'master' | 'replica';
  /** Letter of the shard (A, B, …) the node belongs to. */
  readonly shard: string;
  readonly slots: number;
  /** Server counters (INFO); undefined when the node did not answer. */
  readonly server?: {
    readonly commands: number;
    readonly moved: number;
    readonly ask: number;
    readonly clients: number;
    readonly blocked: number;
    readonly migrating: number;
    readonly importing: number;
  };
  /** PING round trip from this process, ms. */
  readonly pingMs?: number;
  /** State of this process's circuit breaker for the node. */
  readonly breaker: string;
  readonly error?: string;
}

/** One refresh of the whole view. */
export interface Sample {
  /** performance.now() of the sample. */
  readonly at: number;
  readonly seq: number;
  readonly clock: string;
  readonly nodes: readonly NodeSample[];
  /** Shard letter per cell of the slot map ('.' uncovered). */
  readonly slotMap: string;
  readonly redirects: { readonly moved: number; readonly ask: number };
  readonly refreshes: number;
}

/** Cells of the slot map line. */
export const MAP_CELLS = 64;

/** The slot map as one line: each cell is SLOT_COUNT / MAP_CELLS slots, by owner shard letter. */
export function slotMapLine(ownerOf: (slot: number) => number | undefined): string {
  const per = SLOT_COUNT / MAP_CELLS;
  let line = '';
  for (let c = 0; c < MAP_CELLS; c++) {
    const owner = ownerOf(c * per);
    line += owner === undefined ? '.' : shardLetter(owner);
  }
  return line;
}

export function shardLetter(index: number): string {
  return String.fromCharCode(65 + (index % 26));
}

function rate(now: number | undefined, before: number | undefined, seconds: number): string {
  if (now === undefined || before === undefined || seconds <= 0) return '-';
  return String(Math.max(0, Math.round((now - before) / seconds)));
}

/** The screen lines for `now`, rates against `prev` (the previous sample). */
export function render(target: string, intervalMs: number, now: Sample, prev: Sample | undefined): string[] {
  const seconds = prev === undefined ? 0 : (now.at - prev.at) / 1000;
  const masters = now.nodes.filter((n) => n.role === 'master').length;
  const lines = [
    `slotwise top — ${target} — ${masters} masters, ${now.nodes.length - masters} replicas — refresh #${now.seq} at ${now.clock} (every ${intervalMs} ms) — q or Ctrl-C quits`,
    '',
    `${'SHARD NODE'.padEnd(24)}${'ROLE'.padEnd(9)}${'SLOTS'.padStart(6)}${'OPS/S'.padStart(9)}${'PING MS'.padStart(9)}${'MOVED/S'.padStart(9)}${'ASK/S'.padStart(7)}${'CLIENTS'.padStart(9)}${'BLOCKED'.padStart(9)}  ${'BREAKER'.padEnd(10)}MIGRATING`,
  ];
  const byShard = [...now.nodes].sort((a, b) => a.shard.localeCompare(b.shard) || (a.role === 'master' ? -1 : 1) - (b.role === 'master' ? -1 : 1));
  for (const n of byShard) {
    const p = prev?.nodes.find((x) => x.address === n.address)?.server;
    const s = n.server;
    const moving = s === undefined ? '' : [s.migrating > 0 ? `${s.migrating} out` : '', s.importing > 0 ? `${s.importing} in` : ''].filter(Boolean).join(', ');
    lines.push(
      `${`${n.role === 'master' ? n.shard : ' '}     ${n.address}`.padEnd(24)}${n.role.padEnd(9)}${(n.role === 'master' ? String(n.slots) : '-').padStart(6)}` +
        `${rate(s?.commands, p?.commands, seconds).padStart(9)}${(n.pingMs === undefined ? '-' : n.pingMs.toFixed(2)).padStart(9)}` +
        `${rate(s?.moved, p?.moved, seconds).padStart(9)}${rate(s?.ask, p?.ask, seconds).padStart(7)}` +
        `${(s === undefined ? '-' : String(s.clients)).padStart(9)}${(s === undefined ? '-' : String(s.blocked)).padStart(9)}  ${n.breaker.padEnd(10)}${n.error ?? (moving || '-')}`,
    );
  }
  lines.push('', `slot map (one cell = ${SLOT_COUNT / MAP_CELLS} slots, letter = shard, . = uncovered):`, `  ${now.slotMap}`, '');
  lines.push(`this client: redirects followed ${now.redirects.moved} MOVED / ${now.redirects.ask} ASK, topology refreshes ${now.refreshes}`);
  return lines;
}
