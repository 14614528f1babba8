/** Process and file checks for teardown tests (Linux /proc, with a kill(0) fallback). */
import { existsSync, readFileSync } from 'node:fs';

/**
 * True when `pid` no longer runs: no such process, or a zombie (dead, only
 * waiting for its parent to reap it — when a test's child process dies, its
 * orphans are reaped by whatever adopts them, which may take a moment).
 */
export function isProcessGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 is the state; the command name in field 2 may contain spaces, hence lastIndexOf(')').
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    if (existsSync('/proc/self')) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

/** Command line of a pid ('' when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}
