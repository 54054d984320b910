// Who leaves the count next: shared by irv and both stv engines, over any exact number type.
import { breakTie, type TieContext } from "./ties.js";

export interface ValueOps<V> {
  zero: V;
  add: (a: V, b: V) => V;
  compare: (a: V, b: V) => number;
  format: (v: V) => string;
}

export interface EliminationQuestion<V> {
  /** Candidates that may be eliminated (continuing, not elected). */
  hopeful: number[];
  votes: (c: number) => V;
  /** Earlier rounds' counts for tie-breaks, oldest first. */
  history: readonly (readonly (V | undefined)[])[];
  round: number;
  /** Eliminate together every candidate who cannot win (see batchLosers). */
  batch: boolean;
  /** At most this many may go at once (so that enough stay to fill the seats). */
  maxBatch: number;
  /** Value not yet distributed that could still reach the hopefuls (stv surpluses). */
  undistributed: V;
  outcome: string;
}

/**
 * The candidates to eliminate now, lowest first: a batch of sure losers when allowed and one
 * exists, else the single lowest, with ties broken by earlier rounds and then lot.
 */
export function chooseElimination<V>(ops: ValueOps<V>, ctx: TieContext, q: EliminationQuestion<V>): number[] {
  const sorted = [...q.hopeful].sort((a, b) => ops.compare(q.votes(a), q.votes(b)) || a - b);
  if (q.batch) {
    const k = batchLosers(ops, sorted.map(q.votes), q.undistributed, q.maxBatch);
    if (k > 0) return sorted.slice(0, k);
  }
  const low = q.votes(sorted[0]);
  const tied = sorted.filter((c) => ops.compare(q.votes(c), low) === 0);
  if (tied.length === 1) return tied;
  return [
    breakTie(ctx, {
      tied,
      history: q.history,
      compare: ops.compare,
      format: ops.format,
      pick: "lowest",
      decides: "elimination",
      round: q.round,
      now: ops.format(low),
      outcome: q.outcome,
    }),
  ];
}

/**
 * The largest k such that the k lowest candidates together (plus any undistributed value)
 * have fewer votes than the (k+1)-th lowest: none of them can overtake it, so all are
 * eliminated at once. `ascending` is sorted; at least one candidate always stays.
 * Strict "<" means a batch never splits candidates with equal votes. 0 when no batch exists.
 */
export function batchLosers<V>(ops: ValueOps<V>, ascending: V[], undistributed: V, maxBatch: number): number {
  let best = 0;
  let sum = undistributed;
  const limit = Math.min(maxBatch, ascending.length - 1);
  for (let k = 1; k <= limit; k++) {
    sum = ops.add(sum, ascending[k - 1]);
    if (ops.compare(sum, ascending[k]) < 0) best = k;
  }
  return best;
}
