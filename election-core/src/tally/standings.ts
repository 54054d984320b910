// The final table every method returns: candidates in result order with shared positions.
import type { PreparedBallots } from "./ballots.js";
import type { CandidateResult } from "./types.js";

export interface StandingInput {
  /** Candidate indices: winners first in order of election, then the rest by final standing. */
  order: number[];
  winners: ReadonlySet<number>;
  /** True when b (right after a in `order`) stands level with a and so shares its position. */
  level: (a: number, b: number) => boolean;
  /** First preferences (or the count) as an exact decimal string and as a number for the share. */
  votes: (c: number) => string;
  share: (c: number) => number;
  validBallots: number;
}

export function candidateResults(prep: PreparedBallots, s: StandingInput): CandidateResult[] {
  let position = 0;
  return s.order.map((c, i) => {
    if (i === 0 || !s.level(s.order[i - 1], c)) position = i + 1;
    return {
      id: prep.ids[c],
      name: prep.names[c],
      votes: s.votes(c),
      percentage: s.validBallots === 0 ? 0 : (100 * s.share(c)) / s.validBallots,
      elected: s.winners.has(c),
      position,
    };
  });
}

/** Candidate indices 0..n-1 in the caller's order. */
export const indices = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function tieNote(seedHex: string, rounds = true): string {
  const lot = `by lot: the tied candidates are ordered by SHA-256(seed bytes || ":" || candidate id in decimal ASCII), lowest first, and the first is chosen; seed ${seedHex === "" ? "empty" : seedHex.toLowerCase()}.`;
  if (!rounds) return `Ties: broken ${lot}`;
  return (
    "Ties: broken first by earlier rounds, most recent first (\"backwards\"): at the latest earlier round where the tied candidates' counts differ, " +
    "those with the lowest count (to eliminate) or highest (to transfer first) remain, going further back while several remain; " +
    `then ${lot}`
  );
}

/** With nothing counted every candidate stands level; a winner drawn by lot would name no one's choice. */
export const NOTHING_COUNTED_NOTE = "No ballot was counted for any candidate: no one is elected and no lot is drawn.";

export function ballotNote(prep: PreparedBallots): string[] {
  const notes: string[] = [];
  if (prep.blank > 0) notes.push(`${prep.blank} blank ballot(s) counted in ballots but not in valid ballots.`);
  if (prep.unlisted > 0) notes.push(`${prep.unlisted} ballot(s) named candidates not in the count (e.g. withdrawn); those marks were passed over.`);
  return notes;
}
