import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { resolveOptions } from '../../../lib/options.js';
import { unwrapTrace, wrapTrace } from '../../../lib/queue/trace.js';
import { render, slotMapLine, type Sample } from '../../../bin/top-view.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const base = { rootNodes: ['127.0.0.1:7000'] };

describe('telemetry (unit)', () => {
  it('the telemetry option: both signals on by default, each a boolean, no unknown keys', () => {
    assert.deepEqual(resolveOptions(base).telemetry, { tracing: true, metrics: true });
    assert.deepEqual(resolveOptions({ ...base, telemetry: { metrics: false } }).telemetry, { tracing: true, metrics: false });
    assert.throws(() => resolveOptions({ ...base, telemetry: { tracing: 'yes' as never } }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'telemetry.tracing');
    assert.throws(() => resolveOptions({ ...base, telemetry: { logs: true } as never }), (e: unknown) => e instanceof InvalidArgumentError && /telemetry\.logs/.test(e.argument));
  });

  it('a job payload carries the W3C context unchanged through wrap/unwrap, and untraced payloads are stored as they were', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const stored = wrapTrace('{"n":1}', { traceparent: tp, tracestate: 'k=v' });
    assert.deepEqual(unwrapTrace(stored), { data: '{"n":1}', carrier: { traceparent: tp, tracestate: 'k=v' } });
    assert.deepEqual(unwrapTrace(wrapTrace('x', { traceparent: tp })), { data: 'x', carrier: { traceparent: tp } });
    assert.equal(wrapTrace('{"n":1}', undefined), '{"n":1}');
    assert.deepEqual(unwrapTrace('{"n":1}'), { data: '{"n":1}' });
  });

  it('importing slotwise and building a client loads no @opentelemetry module', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "const { ClusterClient } = await import('./lib/index.ts');",
      "new ClusterClient({ rootNodes: ['127.0.0.1:1'] });",
      "const cache = Object.keys(createRequire(import.meta.url).cache);",
      "console.log(JSON.stringify(cache.filter((p) => p.includes('@opentelemetry'))));",
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), []);
  });

  it('slotwise top: the slot map shows owners per cell, rates are deltas between samples', () => {
    assert.equal(slotMapLine((slot) => (slot < 8192 ? 0 : slot < 16384 - 256 ? 1 : undefined)), `${'A'.repeat(32)}${'B'.repeat(31)}.`);
    const node = (commands: number, moved: number) => ({
      address: '127.0.0.1:7000', role: 'master' as const, shard: 'A', slots: 16384, breaker: 'closed', pingMs: 0.5,
      server: { commands, moved, ask: 0, clients: 3, blocked: 1, migrating: 2, importing: 0 },
    });
    const sample = (at: number, seq: number, commands: number, moved: number): Sample => ({
      at, seq, clock: '12:00:00', nodes: [node(commands, moved)], slotMap: 'A'.repeat(64), redirects: { moved: 0, ask: 0 }, refreshes: 1,
    });
    const lines = render('127.0.0.1:7000', 1000, sample(3000, 2, 5000, 30), sample(1000, 1, 1000, 10));
    const row = lines.find((l) => l.startsWith('A '))!;
    assert.match(row, /master\s+16384\s+2000\s+0\.50\s+10\s+0\s+3\s+1\s+closed\s+2 out/);
    assert.ok(lines.some((l) => l === `  ${'A'.repeat(64)}`));
  });
});
