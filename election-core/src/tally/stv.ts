// Single transferable vote with the Weighted Inclusive Gregory Method: Scottish rules (values
// truncated to 5 decimals) and WIGM (exact fractions). Meek lives in stv-meek.ts.
import { Rational } from "./arithmetic.js";
import { describeOvervote, nextPreference, Piles, type PreparedBallots } from "./ballots.js";
import { chooseElimination, type ValueOps } from "./elimination.js";
import type { ResolvedOptions } from "./options.js";
import { ballotNote, candidateResults, indices, NOTHING_COUNTED_NOTE, tieNote } from "./standings.js";
import { tabulateMeek } from "./stv-meek.js";
import { breakTie, type TieContext } from "./ties.js";
import type { Round, TallyResult, Transfer } from "./types.js";

interface WigRules {
  decimals: number;
  quota(validVotes: bigint, seats: number): Rational;
  /** Whether a candidate with votes v is elected by quota q. */
  reaches(v: Rational, q: Rational): boolean;
  /** Value of a paper moving out of a surplus. */
  transferValue(surplus: Rational, paperValue: Rational, total: Rational): Rational;
  describe(validVotes: bigint, seats: number, quota: string): string[];
}

const SCOTTISH: WigRules = {
  decimals: 5,
  quota: (v, seats) => Rational.of(v / BigInt(seats + 1) + 1n),
  reaches: (v, q) => v.cmp(q) >= 0,
  transferValue: (s, value, total) => s.mul(value).div(total).truncate(5),
  describe: (v, seats, quota) => [
    "STV, Scottish rules (Scottish Local Government Elections Order 2007, schedule 1, rules 45 to 52).",
    `Quota: floor(${v} valid votes / (${seats} seats + 1)) + 1 = ${quota}; a candidate with at least the quota is elected.`,
    "Surplus (Weighted Inclusive Gregory): every paper of the elected candidate moves to its next continuing preference at transfer value = surplus x the paper's value / the candidate's total, truncated to 5 decimal places; papers with no next preference are non-transferable at that value. The largest surplus is transferred first, one surplus or one exclusion per stage.",
    "Exclusion: the candidate with the fewest votes is excluded; each paper moves at the value it arrived with.",
    "When the continuing candidates are no more than the seats left, they are all elected and no further transfer is made.",
    "Arithmetic: exact, every value a multiple of 0.00001 shown with 5 decimals; what truncation loses is not counted as non-transferable (see the last note).",
  ],
};

const WIGM: WigRules = {
  decimals: 9,
  quota: (v, seats) => Rational.of(v, BigInt(seats + 1)),
  reaches: (v, q) => v.cmp(q) > 0,
  transferValue: (s, value, total) => s.mul(value).div(total),
  describe: (v, seats, quota) => [
    "STV, Weighted Inclusive Gregory Method (WIGM).",
    `Quota (exact Droop): ${v} valid votes / (${seats} seats + 1) = ${quota}, kept as an exact fraction; a candidate with more than the quota is elected.`,
    "Surplus: every paper of the elected candidate moves to its next continuing preference at transfer value = surplus x the paper's value / the candidate's total; papers with no next preference are non-transferable at that value. The largest surplus is transferred first, one surplus or one exclusion per round.",
    "Exclusion: the candidate with the fewest votes is excluded; each paper moves at the value it arrived with.",
    "When the continuing candidates are no more than the seats left, they are all elected and no further transfer is made.",
    "Arithmetic: exact fractions of arbitrary-size integers, never rounded; values are shown rounded down to 9 decimal places.",
  ],
};

const HOPEFUL = 0;
const ELECTED = 1;
const EXCLUDED = 2;

export function tabulateStv(prep: PreparedBallots, opts: ResolvedOptions): TallyResult {
  if (opts.stvVariant === "meek") return tabulateMeek(prep, opts);
  const rules = opts.stvVariant === "scottish" ? SCOTTISH : WIGM;
  const fmt = (v: Rational) => v.toFixed(rules.decimals);
  const ops: ValueOps<Rational> = { zero: Rational.ZERO, add: (a, b) => a.add(b), compare: (a, b) => a.cmp(b), format: fmt };

  const n = prep.ids.length;
  const { marks, start, count } = prep;
  const status = new Uint8Array(n);
  const isHopeful = (c: number) => status[c] === HOPEFUL;
  const hopefulFlags = () => status.map((x) => (x === HOPEFUL ? 1 : 0));
  const pos = new Int32Array(prep.groups);
  // Papers carry one of a few values: an index into `values` per group.
  const values: Rational[] = [Rational.ONE];
  const valueOf = new Int32Array(prep.groups);
  const piles = new Piles(n, prep.groups);

  // Whole ballots, exact as doubles (a multiset's total is a safe integer).
  const first = new Float64Array(n);
  let firstExhausted = 0;
  const live0 = hopefulFlags();
  for (let i = 0; i < prep.groups; i++) {
    const next = nextPreference(marks, start[i], start[i + 1], live0, opts.overvote);
    if (next.candidate < 0) {
      firstExhausted += count[i];
      continue;
    }
    pos[i] = next.pos;
    piles.push(next.candidate, i);
    first[next.candidate] += count[i];
  }
  const votes = Array.from(first, (v) => Rational.of(v));
  const firstVotes = [...votes];
  let exhausted = Rational.of(firstExhausted);
  const validVotes = first.reduce((s, v) => s + BigInt(v), 0n);
  const quota = rules.quota(validVotes, opts.seats);

  const ctx: TieContext = { seedHex: opts.seedHex, ids: prep.ids, names: prep.names, ties: [] };
  const rounds: Round[] = [];
  const history: (Rational | undefined)[][] = [];
  const elected: number[] = [];
  const pending: number[] = [];
  const excludedIn = new Array<number>(n).fill(0);
  const lastVotes: Rational[] = new Array<Rational>(n).fill(Rational.ZERO);
  const byVotesDesc = (a: number, b: number) => votes[b].cmp(votes[a]) || a - b;

  for (let number = 1; ; number++) {
    const inCount = indices(n).filter((c) => status[c] !== EXCLUDED);
    // The counts this round is decided on, kept for later tie-breaks.
    const now = indices(n).map((c) => (status[c] !== EXCLUDED ? votes[c] : undefined));
    const round: Round = {
      number,
      counts: inCount.map((c) => ({ candidateId: prep.ids[c], votes: fmt(votes[c]) })),
      exhausted: fmt(exhausted),
      quota: fmt(quota),
      elected: [],
      eliminated: [],
      transfers: [],
    };
    rounds.push(round);
    if (validVotes === 0n) break;
    const elect = (cs: number[]) => {
      for (const c of cs.sort(byVotesDesc)) {
        status[c] = ELECTED;
        elected.push(c);
        round.elected.push(prep.ids[c]);
        if (votes[c].cmp(quota) > 0) pending.push(c);
      }
    };

    elect(inCount.filter((c) => isHopeful(c) && rules.reaches(votes[c], quota)));
    const seatsLeft = opts.seats - elected.length;
    const hopeful = inCount.filter(isHopeful);
    if (seatsLeft <= 0) break;
    if (hopeful.length <= seatsLeft) {
      elect(hopeful);
      break;
    }

    if (pending.length > 0) {
      const c = largestSurplus(number);
      pending.splice(pending.indexOf(c), 1);
      round.transfers.push(transfer(c, "surplus"));
    } else {
      const out = chooseElimination(ops, ctx, {
        hopeful,
        votes: (c) => votes[c],
        history,
        round: number,
        batch: opts.batchElimination,
        maxBatch: hopeful.length - seatsLeft,
        undistributed: Rational.ZERO,
        outcome: "is excluded",
      });
      for (const c of out) {
        status[c] = EXCLUDED;
        excludedIn[c] = number;
        lastVotes[c] = votes[c];
      }
      for (const c of out) {
        round.eliminated.push(prep.ids[c]);
        round.transfers.push(transfer(c, "elimination"));
      }
    }
    history.push(now);
  }

  function largestSurplus(round: number): number {
    const top = [...pending].sort(byVotesDesc);
    const tied = top.filter((c) => votes[c].cmp(votes[top[0]]) === 0);
    if (tied.length === 1) return tied[0];
    return breakTie(ctx, {
      tied,
      history,
      compare: ops.compare,
      format: fmt,
      pick: "highest",
      decides: "election",
      round,
      now: fmt(votes[tied[0]]),
      outcome: "has its surplus transferred first",
    });
  }

  function transfer(from: number, kind: Transfer["kind"]): Transfer {
    const total = votes[from];
    const surplus = total.sub(quota);
    const live = hopefulFlags();
    // A paper value's transfer value, computed once per distinct value (-1: not yet).
    const tvOf = new Int32Array(values.length).fill(-1);
    // papers[v][target + 1]: papers of value v moving to target (-1: non-transferable).
    const papers: Float64Array[] = [];
    piles.drain(from, (i) => {
      let v = valueOf[i];
      if (kind === "surplus") {
        if (tvOf[v] < 0) tvOf[v] = values.push(rules.transferValue(surplus, values[v], total)) - 1;
        v = valueOf[i] = tvOf[v];
      }
      const next = nextPreference(marks, pos[i] + 1, start[i + 1], live, opts.overvote);
      if (next.candidate >= 0) {
        pos[i] = next.pos;
        piles.push(next.candidate, i);
      }
      (papers[v] ??= new Float64Array(n + 1))[next.candidate + 1] += count[i];
    });
    votes[from] = kind === "surplus" ? quota : Rational.ZERO;
    const moved = new Array<Rational>(n + 1).fill(Rational.ZERO);
    const reached = new Uint8Array(n + 1);
    papers.forEach((row, v) =>
      row.forEach((k, t) => {
        if (k === 0) return;
        moved[t] = moved[t].add(values[v].mulInt(BigInt(k)));
        reached[t] = 1;
      }),
    );
    const to: Transfer["to"] = [];
    for (let c = 0; c < n; c++) {
      if (reached[c + 1] === 0) continue;
      votes[c] = votes[c].add(moved[c + 1]);
      to.push({ candidateId: prep.ids[c], votes: fmt(moved[c + 1]) });
    }
    const lost = moved[0];
    exhausted = exhausted.add(lost);
    return { from: prep.ids[from], kind, to, exhausted: fmt(lost) };
  }

  // Winners in order of election; then candidates still hopeful by votes; then the excluded,
  // the last excluded first.
  const won = new Set(elected);
  const stillIn = indices(n).filter((c) => status[c] === HOPEFUL).sort(byVotesDesc);
  const out = indices(n)
    .filter((c) => status[c] === EXCLUDED)
    .sort((a, b) => excludedIn[b] - excludedIn[a] || lastVotes[b].cmp(lastVotes[a]) || a - b);
  const standing = (c: number) => (status[c] === HOPEFUL ? votes[c] : lastVotes[c]);
  const retained = [...votes.entries()].filter(([c]) => status[c] !== EXCLUDED).reduce((s, [, v]) => s.add(v), Rational.ZERO);
  const loss = Rational.of(prep.total - prep.blank).sub(retained).sub(exhausted);
  const notes = [
    ...rules.describe(validVotes, opts.seats, fmt(quota)),
    opts.batchElimination
      ? "Batch exclusion: on. When no surplus is waiting, the largest group of lowest candidates whose combined votes are fewer than the next-higher candidate's is excluded at once, leaving at least as many candidates as seats left."
      : "Batch exclusion: off. One candidate is excluded per stage.",
    describeOvervote(opts.overvote),
    "Counts of elected candidates whose surplus has been transferred show the quota they keep. Exhausted is the cumulative non-transferable value, including valid ballots that counted for no one from the first stage.",
    tieNote(opts.seedHex),
    ...ballotNote(prep),
  ];
  if (!loss.isZero()) notes.push(`Value lost to rounding (in no count and not non-transferable): ${fmt(loss)}.`);
  if (validVotes === 0n) notes.push(NOTHING_COUNTED_NOTE);

  return {
    method: "stv",
    seats: opts.seats,
    ballots: prep.total,
    validBallots: prep.total - prep.blank,
    candidates: candidateResults(prep, {
      order: [...elected, ...stillIn, ...out],
      winners: won,
      level: (a, b) => !won.has(a) && !won.has(b) && status[a] === status[b] && excludedIn[a] === excludedIn[b] && standing(a).cmp(standing(b)) === 0,
      votes: (c) => fmt(firstVotes[c]),
      share: (c) => firstVotes[c].toNumber(),
      validBallots: prep.total - prep.blank,
    }),
    winners: elected.map((c) => prep.ids[c]),
    rounds,
    ties: ctx.ties,
    notes,
  };
}
