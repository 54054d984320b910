// Instant-runoff voting. Ballots sit in one pile per continuing candidate; eliminating a
// candidate moves only that pile, so a round costs the size of the piles that move, not the
// number of ballots.
import { describeOvervote, nextPreference, Piles, type PreparedBallots } from "./ballots.js";
import { chooseElimination, type ValueOps } from "./elimination.js";
import type { ResolvedOptions } from "./options.js";
import { ballotNote, candidateResults, indices, NOTHING_COUNTED_NOTE, tieNote } from "./standings.js";
import type { TieContext } from "./ties.js";
import type { Round, TallyResult, Transfer } from "./types.js";

const INT: ValueOps<number> = { zero: 0, add: (a, b) => a + b, compare: (a, b) => a - b, format: String };

export function tabulateIrv(prep: PreparedBallots, opts: ResolvedOptions): TallyResult {
  const n = prep.ids.length;
  const { marks, start, count } = prep;
  const continuing = new Uint8Array(n).fill(1);
  const isContinuing = (c: number) => continuing[c] === 1;
  const pos = new Int32Array(prep.groups);
  const piles = new Piles(n, prep.groups);
  const votes = new Array<number>(n).fill(0);
  let exhausted = 0;

  for (let i = 0; i < prep.groups; i++) {
    const next = nextPreference(marks, start[i], start[i + 1], continuing, opts.overvote);
    if (next.candidate < 0) {
      exhausted += count[i];
      continue;
    }
    pos[i] = next.pos;
    piles.push(next.candidate, i);
    votes[next.candidate] += count[i];
  }
  const firstVotes = [...votes];
  const valid = prep.total - prep.blank;

  const ctx: TieContext = { seedHex: opts.seedHex, ids: prep.ids, names: prep.names, ties: [] };
  const rounds: Round[] = [];
  const history: (number | undefined)[][] = [];
  const eliminatedIn = new Array<number>(n).fill(0);
  const lastVotes = new Array<number>(n).fill(0);
  let winner = -1;

  for (let number = 1; n > 0; number++) {
    const live = indices(n).filter(isContinuing);
    const total = live.reduce((s, c) => s + votes[c], 0);
    const round: Round = {
      number,
      counts: live.map((c) => ({ candidateId: prep.ids[c], votes: String(votes[c]) })),
      exhausted: String(exhausted),
      elected: [],
      eliminated: [],
      transfers: [],
    };
    rounds.push(round);
    if (total === 0) break;
    const leader = live.find((c) => 2 * votes[c] > total);
    if (leader !== undefined || live.length === 1) {
      winner = leader ?? live[0];
      round.elected.push(prep.ids[winner]);
      break;
    }

    const out = chooseElimination(INT, ctx, {
      hopeful: live,
      votes: (c) => votes[c],
      history,
      round: number,
      batch: opts.batchElimination,
      maxBatch: live.length - 1,
      undistributed: 0,
      outcome: "is eliminated",
    });
    history.push(votes.map((v, c) => (isContinuing(c) ? v : undefined)));
    for (const c of out) {
      continuing[c] = 0;
      eliminatedIn[c] = number;
      lastVotes[c] = votes[c];
    }
    for (const c of out) {
      round.eliminated.push(prep.ids[c]);
      round.transfers.push(moveOn(c));
    }
  }

  function moveOn(from: number): Transfer {
    const to = new Float64Array(n);
    let lost = 0;
    piles.drain(from, (i) => {
      const next = nextPreference(marks, pos[i] + 1, start[i + 1], continuing, opts.overvote);
      const k = count[i];
      if (next.candidate < 0) lost += k;
      else {
        pos[i] = next.pos;
        piles.push(next.candidate, i);
        to[next.candidate] += k;
      }
    });
    votes[from] = 0;
    exhausted += lost;
    for (let c = 0; c < n; c++) votes[c] += to[c];
    return {
      from: prep.ids[from],
      kind: "elimination",
      to: indices(n)
        .filter((c) => to[c] > 0)
        .map((c) => ({ candidateId: prep.ids[c], votes: String(to[c]) })),
      exhausted: String(lost),
    };
  }

  // Winner, then the runner-up(s) still in the count, then the last eliminated first; a batch
  // by its votes in its last round.
  for (const c of indices(n).filter(isContinuing)) {
    eliminatedIn[c] = rounds.length + 1;
    lastVotes[c] = votes[c];
  }
  const rest = indices(n)
    .filter((c) => c !== winner)
    .sort((a, b) => eliminatedIn[b] - eliminatedIn[a] || lastVotes[b] - lastVotes[a] || a - b);
  const order = winner >= 0 ? [winner, ...rest] : rest;

  return {
    method: "irv",
    seats: 1,
    ballots: prep.total,
    validBallots: valid,
    candidates: candidateResults(prep, {
      order,
      winners: new Set(winner >= 0 ? [winner] : []),
      level: (a, b) => a !== winner && b !== winner && eliminatedIn[a] === eliminatedIn[b] && lastVotes[a] === lastVotes[b],
      votes: (c) => String(firstVotes[c]),
      share: (c) => firstVotes[c],
      validBallots: valid,
    }),
    winners: winner >= 0 ? [prep.ids[winner]] : [],
    rounds,
    ties: ctx.ties,
    notes: [
      "Instant-runoff voting: each round counts every ballot for its highest-ranked continuing candidate. A candidate with more than half of the continuing (non-exhausted) votes is elected; otherwise the last-placed candidate is eliminated and those ballots move to their next continuing choice. When one candidate remains, that candidate is elected.",
      opts.batchElimination
        ? "Batch elimination: on. The largest group of lowest candidates whose combined votes are fewer than the next-higher candidate's votes is eliminated at once (none of them can win)."
        : "Batch elimination: off. One candidate is eliminated per round.",
      describeOvervote(opts.overvote),
      "Counts are whole numbers of ballots. Exhausted is cumulative and includes valid ballots that counted for no one from the first round (e.g. a first-rank overvote). Percentages are first preferences over valid ballots.",
      tieNote(opts.seedHex),
      ...ballotNote(prep),
      ...(winner < 0 ? [NOTHING_COUNTED_NOTE] : []),
    ],
  };
}
