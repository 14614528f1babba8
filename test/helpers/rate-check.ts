/**
 * Checks a rate limiter's documented bound on what it granted: in any window
 * of one key's grants, from grant i to grant j (server times g_i ≤ g_j),
 * the units granted are at most `burst + (g_j − g_i) / interval`.
 */

/** One grant: server time (µs) and units. */
export type Grant = readonly [serverTimeUs: number, units: number];

/** The grants that broke the bound (0 = the limiter kept its promise), checking every window in O(n). */
export function overGrants(grants: readonly Grant[], intervalUs: number, burst: number): number {
  const sorted = [...grants].sort((a, b) => a[0] - b[0]);
  let before = 0; // units granted before the current grant
  let minStart = Infinity; // min over window starts i of (units before i − g_i / interval)
  let violations = 0;
  for (const [t, n] of sorted) {
    minStart = Math.min(minStart, before - t / intervalUs);
    before += n;
    // Units in the window ending here, minus what the bound allows, maximised over starts.
    if (before - t / intervalUs - minStart > burst + 1e-6) violations++;
  }
  return violations;
}
