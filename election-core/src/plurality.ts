import { parseChoicesKey } from "./ballot-log.js";

/** Identical ballots counted once: choices key -> number of ballots. */
export type BallotMultiset = ReadonlyMap<string, number>;

export interface CandidateTally {
  candidateId: number;
  name: string;
  votes: number;
  /** Share of all counted ballots, 0..100. */
  percentage: number;
  leading: boolean;
}

export interface PluralityTally {
  totalBallots: number;
  candidates: CandidateTally[];
}

/**
 * Counts single-choice ballots. Every listed candidate appears, with 0 votes if none;
 * a ballot for an id that is not listed still counts, under a placeholder name.
 */
export function tallyPlurality(
  ballots: BallotMultiset,
  candidates: readonly { id: number; name: string }[],
): PluralityTally {
  const votes = new Map<number, number>(candidates.map((c) => [c.id, 0]));
  const names = new Map(candidates.map((c) => [c.id, c.name]));
  let total = 0;
  for (const [key, count] of ballots) {
    const choices = parseChoicesKey(key);
    if (choices.length !== 1) throw new Error(`plurality ballot must have one choice, got "${key}"`);
    votes.set(choices[0], (votes.get(choices[0]) ?? 0) + count);
    total += count;
  }
  const max = Math.max(0, ...votes.values());
  const rows = [...votes].map(([candidateId, v]) => ({
    candidateId,
    name: names.get(candidateId) ?? `candidate ${candidateId}`,
    votes: v,
    percentage: total === 0 ? 0 : (100 * v) / total,
    leading: max > 0 && v === max,
  }));
  rows.sort((a, b) => b.votes - a.votes || a.candidateId - b.candidateId);
  return { totalBallots: total, candidates: rows };
}
