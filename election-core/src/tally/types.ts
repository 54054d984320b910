// The tally library's vocabulary: what goes in (a multiset of ballots and options) and the
// explained result that comes out. tally-server, `voting tabulate` and `voting audit` all
// speak it; the proto ElectionResult mirrors it field for field.

export type Method = "plurality" | "approval" | "irv" | "stv" | "schulze";
export const METHODS: readonly Method[] = ["plurality", "approval", "irv", "stv", "schulze"];

/** STV counting rules. */
export type StvVariant = "scottish" | "wigm" | "meek";

/**
 * What a rank holding two or more candidates (an overvote) does to a ranked ballot:
 * - "exhaust": the ballot stops counting when it reaches that rank;
 * - "skip": the rank is passed over and the next one is used;
 * - "exhaust-if-continuing": exhaust only when two or more of those candidates are still
 *   continuing; with exactly one continuing it counts for that one; with none, skip.
 */
export type OvervoteRule = "exhaust" | "skip" | "exhaust-if-continuing";

export interface Candidate {
  id: number;
  name: string;
}

/**
 * Identical ballots counted once. `ranks[i]` holds the candidates at rank i: one candidate,
 * or several for an overvote. A plurality ballot is `[[c]]`; an approval ballot is one rank
 * holding every approved candidate, `[[a, b, c]]`; a ranked ballot is `[[a], [b], [c]]`.
 */
export interface BallotGroup {
  ranks: number[][];
  count: number;
}

export interface TallyOptions {
  method: Method;
  /** Seats to fill; 1 unless stated. */
  seats?: number;
  /** irv/stv: eliminate together every candidate who cannot win (default false). */
  batchElimination?: boolean;
  /** irv/stv: default "exhaust". schulze reads a rank naming several candidates as a tie between them. */
  overvote?: OvervoteRule;
  /** stv: default "scottish". */
  stvVariant?: StvVariant;
  /** Hex seed for drawing lots; tally-server passes the ballot log's head hash. */
  tieBreakSeed?: string;
}

export interface CandidateResult {
  id: number;
  name: string;
  /**
   * Exact decimal string. plurality/approval: the count; irv/stv: first preferences;
   * schulze: first preferences (the pairwise matrix explains the result).
   */
  votes: string;
  /** votes as a share of valid ballots, 0..100. */
  percentage: number;
  elected: boolean;
  /** 1 for the first winner or the top of the ranking; ties share a position. */
  position: number;
}

export interface Transfer {
  /** The candidate whose surplus or votes move. */
  from: number;
  /** "surplus" or "elimination". */
  kind: "surplus" | "elimination";
  /** Exact decimal strings. */
  to: { candidateId: number; votes: string }[];
  exhausted: string;
}

export interface Round {
  /** 1-based. */
  number: number;
  /** Totals of every candidate still in the count (continuing or elected), exact decimals. */
  counts: { candidateId: number; votes: string }[];
  /** Cumulative exhausted (non-transferable) ballots or value, exact decimal. */
  exhausted: string;
  /** stv only. */
  quota?: string;
  /** Decided at the end of this round. */
  elected: number[];
  eliminated: number[];
  /** Moves made at the end of this round; the next round's counts include them. */
  transfers: Transfer[];
}

export interface TieBreak {
  round?: number;
  /** The candidates who were tied. */
  among: number[];
  /** Who the break chose (to eliminate, elect or rank first, per `decides`). */
  chosen: number;
  decides: "elimination" | "election" | "ranking";
  /** "previous-rounds": earlier round counts; "lot": seeded draw. */
  rule: "previous-rounds" | "lot";
  detail: string;
}

export interface Pairwise {
  /** Order of rows and columns. */
  candidates: number[];
  /** matrix[i][j]: ballots ranking candidates[i] above candidates[j]. */
  matrix: number[][];
  /** strongest[i][j]: strength of the strongest path from i to j (Schulze, winning votes). */
  strongest: number[][];
}

export interface TallyResult {
  method: Method;
  seats: number;
  /** Every ballot given, including blank or exhausted ones. */
  ballots: number;
  /**
   * Ballots that mark at least one listed candidate (plurality: exactly one at the first rank).
   * irv/stv: a valid ballot that counts for no one in round 1 (e.g. a first-rank overvote) is
   * exhausted from round 1, so counts + exhausted = validBallots.
   */
  validBallots: number;
  /** Winners first in order of election, then the rest by final standing. */
  candidates: CandidateResult[];
  winners: number[];
  rounds: Round[];
  pairwise?: Pairwise;
  /** schulze: the full ranking, best first; candidates in one group are tied. */
  ranking?: number[][];
  ties: TieBreak[];
  /** The rules applied, in words (arithmetic, quota, options). */
  notes: string[];
}
