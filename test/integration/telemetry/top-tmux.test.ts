/**
 * `slotwise top` in a real terminal: tmux (a private server socket) runs the
 * CLI; the test reads the screen as a user sees it, checks it renders every
 * node and the slot map, redraws, shows a reshard's open slots and MOVED
 * replies, and exits with code 0 on `q` and on Ctrl-C, leaving the
 * alternate screen (the shell around it records the exit status in a file). Skipped (with the reason) where tmux is not installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';
import type { StartedRedisCluster } from '../../../testcontainers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAUNCHER = join(root, 'bin', 'slotwise.js');
const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => existsSync(p));
const SOCKET = `slotwise-top-test-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync(TMUX!, ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function screen(session: string): string {
  return tmux('capture-pane', '-p', '-t', session);
}

const exitFile = (session: string) => join(tmpdir(), `${SOCKET}-${session}.exit`);

/** Runs top in a new session; the shell around it writes top's exit status ($?, 128+n for a signal) to exitFile(session). */
function start(session: string, port: number): void {
  rmSync(exitFile(session), { force: true });
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '30', `${process.execPath} ${LAUNCHER} top --port ${port}; echo "exit=$?" > ${exitFile(session)}`, ';', 'set-option', '-t', session, 'remain-on-exit', 'on');
}

/** top's exit status once it ended ('0' for a clean exit), else undefined. */
function exitStatus(session: string): string | undefined {
  if (!existsSync(exitFile(session))) return undefined;
  return /exit=(\d+)/.exec(readFileSync(exitFile(session), 'utf8'))?.[1];
}

function refreshNo(text: string): number {
  return Number(/refresh #(\d+)/.exec(text)?.[1] ?? 0);
}

describe('slotwise top in tmux (integration)', function () {
  this.timeout(240_000);
  let cluster: StartedRedisCluster;

  before(async function () {
    if (TMUX === undefined) this.skip(); // tmux is not installed on this machine: the terminal test cannot run.
    cluster = await sharedCluster();
  });
  after(() => {
    if (TMUX !== undefined) {
      try {
        tmux('kill-server');
      } catch {
        // No server left: every session already ended.
      }
    }
  });

  it('renders every node and the slot map, redraws, shows a reshard, and exits 0 on q', async () => {
    const masters = (await cluster.getNodes()).filter((n) => n.role === 'master');
    start('q', masters[0]!.port);
    const first = await waitFor(() => (refreshNo(screen('q')) >= 1 ? screen('q') : undefined), { timeoutMs: 60_000, what: 'the first frame' });
    assert.match(first, /slotwise top — 127\.0\.0\.1:\d+ — 3 masters, 3 replicas/);
    for (const n of await cluster.getNodes()) assert.ok(first.includes(`127.0.0.1:${n.port}`), `row for ${n.port}`);
    assert.match(first, /^ {2}[ABC]{64}$/m, 'the slot map covers every cell');
    const seen = refreshNo(first);
    await waitFor(() => refreshNo(screen('q')) > seen, { timeoutMs: 45_000, what: 'a redraw' });

    // An open slot and MOVED replies show up while they happen.
    const [from, to, other] = masters as [(typeof masters)[0], (typeof masters)[0], (typeof masters)[0]];
    const slot = from.slots[0]![0];
    let keyOnSlot = '';
    for (let i = 0; keyOnSlot === ''; i++) if (slotOf(`top:${i}`) === slot) keyOnSlot = `top:${i}`;
    const src = new Redis({ host: '127.0.0.1', port: from.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    const dst = new Redis({ host: '127.0.0.1', port: to.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    // A raw client asking a node that does not own the slot: the server answers -MOVED, which the view counts.
    const stray = new Redis({ host: '127.0.0.1', port: other.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      const dstId = String(await dst.call('CLUSTER', 'MYID'));
      const srcId = String(await src.call('CLUSTER', 'MYID'));
      await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', srcId);
      await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', dstId);
      await waitFor(() => /1 out/.test(screen('q')) && /1 in/.test(screen('q')), { timeoutMs: 45_000, what: 'the open slot on both sides' });
      const loop = setInterval(() => void stray.get(keyOnSlot).catch(() => undefined), 20);
      try {
        await waitFor(() => screen('q').split('\n').some((l) => l.includes(`127.0.0.1:${other.port}`) && /master\s+\d+\s+\d+\s+[\d.]+\s+[1-9]\d*/.test(l)), {
          timeoutMs: 45_000, what: 'MOVED/S above zero on the node asked for a slot it does not own',
        });
      } finally {
        clearInterval(loop);
      }
    } finally {
      // Close the slot again: it never moved.
      await src.call('CLUSTER', 'SETSLOT', slot, 'STABLE').catch(() => undefined);
      await dst.call('CLUSTER', 'SETSLOT', slot, 'STABLE').catch(() => undefined);
      src.disconnect();
      dst.disconnect();
      stray.disconnect();
    }

    tmux('send-keys', '-t', 'q', 'q');
    const status = await waitFor(() => exitStatus('q'), { timeoutMs: 45_000, what: 'top to exit on q' });
    assert.equal(status, '0');
    assert.doesNotMatch(screen('q'), /slotwise top —/, 'the alternate screen was left');
  });

  it('exits 0 on Ctrl-C', async () => {
    start('c', cluster.getRootNodes()[0]!.port);
    await waitFor(() => refreshNo(screen('c')) >= 1, { timeoutMs: 60_000, what: 'the first frame' });
    tmux('send-keys', '-t', 'c', 'C-c');
    const status = await waitFor(() => exitStatus('c'), { timeoutMs: 45_000, what: 'top to exit on Ctrl-C' });
    assert.equal(status, '0');
  });
});
