import type { ShardView } from './parse.js';

/** One node's answer in a topology refresh. */
export interface NodeAnswer {
  /** Address of the node that answered. */
  readonly source: string;
  readonly shards: readonly ShardView[];
  /** The node's `cluster_current_epoch` (0 when unknown). */
  readonly epoch: number;
}

/** The view chosen from several answers. */
export interface Choice {
  readonly answer: NodeAnswer;
  readonly fingerprint: string;
  /** How many answers described exactly this view. */
  readonly votes: number;
  /** Answers that disagreed with the chosen view. */
  readonly dissent: number;
}

/**
 * Canonical text of a view: slot ownership and membership, not health or
 * replication offsets (those change without the map changing). Two nodes
 * agree when their fingerprints are equal.
 */
export function fingerprintOf(shards: readonly ShardView[]): string {
  const parts = shards.map((s) => {
    const ranges = s.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
    const replicas = s.replicas.map((r) => `${r.id}@${r.host}:${r.port}`).sort().join(',');
    return `${s.master.id}@${s.master.host}:${s.master.port}[${ranges}](${replicas})`;
  });
  return parts.sort().join(';');
}

function covered(shards: readonly ShardView[]): number {
  let n = 0;
  for (const s of shards) for (const [a, b] of s.ranges) n += b - a + 1;
  return n;
}

/**
 * Chooses the view most nodes agree on. Ties go to the view reported with the
 * highest config epoch (the newest knowledge of a failover or migration),
 * then to the view covering more slots, then to the lowest fingerprint so the
 * choice is deterministic.
 */
export function chooseView(answers: readonly NodeAnswer[]): Choice | undefined {
  const groups = new Map<string, { answer: NodeAnswer; votes: number; epoch: number; covered: number }>();
  for (const answer of answers) {
    const fp = fingerprintOf(answer.shards);
    const g = groups.get(fp);
    if (g) {
      g.votes++;
      if (answer.epoch > g.epoch) {
        g.epoch = answer.epoch;
        g.answer = answer;
      }
    } else {
      groups.set(fp, { answer, votes: 1, epoch: answer.epoch, covered: covered(answer.shards) });
    }
  }
  let best: [string, { answer: NodeAnswer; votes: number; epoch: number; covered: number }] | undefined;
  for (const entry of groups) {
    if (!best) {
      best = entry;
      continue;
    }
    const [fp, g] = entry;
    const [bfp, b] = best;
    if (
      g.votes > b.votes ||
      (g.votes === b.votes && (g.epoch > b.epoch || (g.epoch === b.epoch && (g.covered > b.covered || (g.covered === b.covered && fp < bfp)))))
    ) {
      best = entry;
    }
  }
  if (!best) return undefined;
  const [fingerprint, g] = best;
  return { answer: g.answer, fingerprint, votes: g.votes, dissent: answers.length - g.votes };
}
