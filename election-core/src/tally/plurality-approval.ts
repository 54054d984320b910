// Plurality and approval, one or more seats: the candidates with the most votes win.
import { candidateOf, TIED, type PreparedBallots } from "./ballots.js";
import type { ResolvedOptions } from "./options.js";
import { ballotNote, candidateResults, indices, NOTHING_COUNTED_NOTE, tieNote } from "./standings.js";
import { chooseByLot, type TieContext } from "./ties.js";
import type { TallyResult } from "./types.js";

export function tabulatePluralityApproval(prep: PreparedBallots, opts: ResolvedOptions): TallyResult {
  const approval = opts.method === "approval";
  const n = prep.ids.length;
  const votes = new Float64Array(n);
  let valid = 0;
  let overvoted = 0;
  const { marks, start, count } = prep;
  for (let g = 0; g < prep.groups; g++) {
    const first = marks[start[g]];
    if (approval) {
      // Every candidate of the first rank.
      for (let i = start[g]; ; i++) {
        votes[candidateOf(marks[i])] += count[g];
        if ((marks[i] & TIED) === 0) break;
      }
    } else if ((first & TIED) === 0) {
      votes[first] += count[g];
    } else {
      overvoted += count[g];
      continue;
    }
    valid += count[g];
  }

  const ctx: TieContext = { seedHex: opts.seedHex, ids: prep.ids, names: prep.names, ties: [] };
  const byVotes = indices(n).sort((a, b) => votes[b] - votes[a] || a - b);
  const seats = Math.min(opts.seats, n);
  let winners: number[] = [];
  if (seats > 0 && valid > 0) {
    const cut = votes[byVotes[seats - 1]];
    const above = byVotes.filter((c) => votes[c] > cut);
    const atCut = byVotes.filter((c) => votes[c] === cut);
    const drawn = chooseByLot(ctx, atCut, seats - above.length, { decides: "election", round: 1, now: `${cut} votes`, outcome: "is elected" });
    winners = [...above, ...drawn];
  }
  const won = new Set(winners);
  const order = [...winners, ...byVotes.filter((c) => !won.has(c))];

  const unit = approval ? "approval" : "vote";
  const notes = [
    approval
      ? "Approval: each ballot gives one vote to every candidate it approves (its first rank); repeats are ignored."
      : "Plurality: each ballot counts for the single candidate at its first rank; a first rank naming several candidates (an overvote) is invalid.",
    `Seats: ${opts.seats}; the ${opts.seats === 1 ? "candidate" : `${opts.seats} candidates`} with the most ${unit}s ${opts.seats === 1 ? "is" : "are"} elected. Counts are whole numbers; percentages are of valid ballots.`,
    tieNote(opts.seedHex, false),
    ...ballotNote(prep),
  ];
  if (overvoted > 0) notes.push(`${overvoted} overvoted ballot(s) were invalid.`);
  if (valid === 0) notes.push(NOTHING_COUNTED_NOTE);

  return {
    method: opts.method,
    seats: opts.seats,
    ballots: prep.total,
    validBallots: valid,
    candidates: candidateResults(prep, {
      order,
      winners: won,
      level: (a, b) => votes[a] === votes[b],
      votes: (c) => String(votes[c]),
      share: (c) => votes[c],
      validBallots: valid,
    }),
    winners: winners.map((c) => prep.ids[c]),
    rounds: [
      {
        number: 1,
        counts: indices(n).map((c) => ({ candidateId: prep.ids[c], votes: String(votes[c]) })),
        exhausted: "0",
        elected: winners.map((c) => prep.ids[c]),
        eliminated: [],
        transfers: [],
      },
    ],
    ties: ctx.ties,
    notes,
  };
}
