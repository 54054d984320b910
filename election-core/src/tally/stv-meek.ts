// Meek STV (the formulation of droop's "meek" rule and OpenSTV's MeekSTV) in BigInt
// fixed-point with 9 decimal places.
import { ceilDiv, formatFixed } from "./arithmetic.js";
import { describeOvervote, type PreparedBallots } from "./ballots.js";
import { chooseElimination, type ValueOps } from "./elimination.js";
import { Chains, DECIMALS, DEFEATED, ELECTED, HOPEFUL, ONE } from "./meek-chains.js";
import type { ResolvedOptions } from "./options.js";
import { ballotNote, candidateResults, indices, NOTHING_COUNTED_NOTE, tieNote } from "./standings.js";
import type { TieContext } from "./ties.js";
import type { Round, TallyResult, Transfer } from "./types.js";

/** Iteration stops once the total surplus is at most 0.000001 (droop's fixed-point default). */
const OMEGA = 10n ** 3n;
/** A safety net only: the surplus strictly falls between iterations or the loop stops. */
const MAX_ITERATIONS = 100_000;

const fmt = (v: bigint) => formatFixed(v, DECIMALS);
const OPS: ValueOps<bigint> = { zero: 0n, add: (a, b) => a + b, compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0), format: fmt };

export function tabulateMeek(prep: PreparedBallots, opts: ResolvedOptions): TallyResult {
  const n = prep.ids.length;
  const status = new Uint8Array(n);
  const kf = new Array<bigint>(n).fill(ONE);
  const votes = new Array<bigint>(n).fill(0n);
  let exhausted = 0n;
  const chains = new Chains(prep, opts, status);

  function distribute(): void {
    exhausted = chains.distribute(kf, votes);
  }

  const inCount = () => indices(n).filter((c) => status[c] !== DEFEATED);
  const hopefuls = () => indices(n).filter((c) => status[c] === HOPEFUL);
  const sumVotes = (cs: number[]) => cs.reduce((s, c) => s + votes[c], 0n);
  let quota = 0n;

  /** Recount with updated keep factors until someone is elected or the surplus settles. */
  function iterate(): { newlyElected: number[]; surplus: bigint } {
    let last: bigint | undefined;
    for (let i = 0; ; i++) {
      distribute();
      quota = sumVotes(inCount()) / BigInt(opts.seats + 1) + 1n;
      const reached = hopefuls().filter((c) => votes[c] >= quota);
      const elected = indices(n).filter((c) => status[c] === ELECTED);
      const surplus = elected.reduce((s, c) => s + votes[c] - quota, 0n);
      if (reached.length > 0) return { newlyElected: reached, surplus };
      if (surplus <= OMEGA || (last !== undefined && surplus >= last) || i >= MAX_ITERATIONS) return { newlyElected: [], surplus };
      last = surplus;
      for (const c of elected) kf[c] = ceilDiv(ceilDiv(kf[c] * quota, ONE) * ONE, votes[c]);
    }
  }

  distribute();
  const firstVotes = [...votes];
  const firstExhausted = exhausted;
  const nothingCounted = firstVotes.every((v) => v === 0n);

  const ctx: TieContext = { seedHex: opts.seedHex, ids: prep.ids, names: prep.names, ties: [] };
  const rounds: Round[] = [];
  const history: (bigint | undefined)[][] = [];
  const elected: number[] = [];
  const defeatedIn = new Array<number>(n).fill(0);
  const lastVotes = new Array<bigint>(n).fill(0n);
  const byVotesDesc = (a: number, b: number) => OPS.compare(votes[b], votes[a]) || a - b;

  for (let number = 1; ; number++) {
    const { newlyElected, surplus } = iterate();
    const live = inCount();
    const now = indices(n).map((c) => (status[c] !== DEFEATED ? votes[c] : undefined));
    const round: Round = {
      number,
      counts: live.map((c) => ({ candidateId: prep.ids[c], votes: fmt(votes[c]) })),
      exhausted: fmt(exhausted),
      quota: fmt(quota),
      elected: [],
      eliminated: [],
      transfers: [],
    };
    rounds.push(round);
    if (nothingCounted) break;
    const elect = (cs: number[]) => {
      for (const c of cs.sort(byVotesDesc)) {
        status[c] = ELECTED;
        elected.push(c);
        round.elected.push(prep.ids[c]);
      }
    };

    elect(newlyElected);
    const seatsLeft = opts.seats - elected.length;
    const hopeful = hopefuls();
    if (seatsLeft <= 0) break;
    if (hopeful.length <= seatsLeft) {
      elect(hopeful);
      break;
    }
    if (newlyElected.length > 0) {
      for (const c of newlyElected) chains.elected(c);
      history.push(now);
      continue;
    }

    const out = chooseElimination(OPS, ctx, {
      hopeful,
      votes: (c) => votes[c],
      history,
      round: number,
      batch: opts.batchElimination,
      maxBatch: hopeful.length - seatsLeft,
      undistributed: surplus > 0n ? surplus : 0n,
      outcome: "is defeated",
    });
    for (const c of out) {
      defeatedIn[c] = number;
      lastVotes[c] = votes[c];
    }
    for (const c of out) {
      round.eliminated.push(prep.ids[c]);
      round.transfers.push(defeat(c));
    }
    history.push(now);
  }

  // Where a defeated candidate's votes go with every keep factor held where it is.
  function defeat(c: number): Transfer {
    const before = [...votes];
    const exhaustedBefore = exhausted;
    status[c] = DEFEATED;
    kf[c] = 0n;
    chains.defeated(c);
    distribute();
    const to = indices(n)
      .filter((d) => d !== c && votes[d] !== before[d])
      .map((d) => ({ candidateId: prep.ids[d], votes: fmt(votes[d] - before[d]) }));
    return { from: prep.ids[c], kind: "elimination", to, exhausted: fmt(exhausted - exhaustedBefore) };
  }

  const won = new Set(elected);
  const stillIn = hopefuls().sort(byVotesDesc);
  const out = indices(n)
    .filter((c) => status[c] === DEFEATED)
    .sort((a, b) => defeatedIn[b] - defeatedIn[a] || OPS.compare(lastVotes[b], lastVotes[a]) || a - b);
  const standing = (c: number) => (status[c] === HOPEFUL ? votes[c] : lastVotes[c]);
  const valid = prep.total - prep.blank;

  return {
    method: "stv",
    seats: opts.seats,
    ballots: prep.total,
    validBallots: valid,
    candidates: candidateResults(prep, {
      order: [...elected, ...stillIn, ...out],
      winners: won,
      level: (a, b) => !won.has(a) && !won.has(b) && status[a] === status[b] && defeatedIn[a] === defeatedIn[b] && standing(a) === standing(b),
      votes: (c) => fmt(firstVotes[c]),
      share: (c) => Number(firstVotes[c]) / Number(ONE),
      validBallots: valid,
    }),
    winners: elected.map((c) => prep.ids[c]),
    rounds,
    ties: ctx.ties,
    notes: [
      "STV, Meek's method (the formulation of droop's meek rule and OpenSTV's MeekSTV).",
      "Every candidate has a keep factor: 1 while hopeful, 0 once defeated. Each ballot gives each candidate it reaches, in order, weight x keep factor (rounded down) and passes on weight x (1 - keep factor) (rounded down); defeated candidates are skipped and what is left at the end of the ballot is exhausted.",
      `Quota: the votes held by candidates / (${opts.seats} seats + 1), rounded down, plus 0.000000001, recomputed on every iteration; a candidate with at least the quota is elected.`,
      "Iteration: elected candidates' keep factors become keep factor x quota / votes (each product and quotient rounded up), and the count is repeated until someone new reaches the quota, the total surplus is at most 0.000001, or the surplus stops falling; then the hopeful candidate with the fewest votes is defeated.",
      "Arithmetic: fixed-point with 9 decimal places (integers counting 0.000000001), so every figure shown is exact.",
      opts.batchElimination
        ? "Batch defeat: on. After an iteration settles, the largest group of lowest hopefuls whose votes plus the total surplus are fewer than the next-higher hopeful's is defeated at once."
        : "Batch defeat: off. One candidate is defeated per round.",
      "Counts are the converged values of each round. A defeat's transfer shows where that candidate's votes went with the keep factors held fixed; the next round's iteration then settles the surpluses again.",
      describeOvervote(opts.overvote) + " Elected candidates count as continuing.",
      `Exhausted is the value left at the end of ballots (${fmt(firstExhausted)} in the first round); rounding down loses a little more, in no count.`,
      tieNote(opts.seedHex),
      ...ballotNote(prep),
      ...(nothingCounted ? [NOTHING_COUNTED_NOTE] : []),
    ],
  };
}
