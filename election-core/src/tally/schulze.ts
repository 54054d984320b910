// Schulze method (winning votes): pairwise preferences, strongest paths, the full ranking.
import { candidateOf, TIED, type PreparedBallots } from "./ballots.js";
import type { ResolvedOptions } from "./options.js";
import { ballotNote, candidateResults, indices, NOTHING_COUNTED_NOTE, tieNote } from "./standings.js";
import { chooseByLot, type TieContext } from "./ties.js";
import type { TallyResult } from "./types.js";

/**
 * d[i][j]: ballots ranking i above j. A candidate a ballot leaves out is ranked below every
 * candidate it names; candidates sharing a rank are tied (neither is preferred).
 */
export function pairwiseMatrix(prep: PreparedBallots): number[][] {
  const n = prep.ids.length;
  const d = n <= MASK_LIMIT ? byPrefixSets(prep) : byRanks(prep);
  return indices(n).map((i) => Array.from(d.subarray(i * n, i * n + n)));
}

/** Up to this many candidates, the matrix is built from prefix sets (2^n of them). */
const MASK_LIMIT = 12;

/**
 * One step per mark: above[c][S] counts ballots that rank c just below the set S, and
 * named[S] ballots that name exactly S (the rest below all of S); the matrix follows from
 * those 2^n-sized tables, so the work no longer grows with n^2 per ballot.
 */
function byPrefixSets(prep: PreparedBallots): Float64Array {
  const n = prep.ids.length;
  const sets = 1 << n;
  const above = new Float64Array(n * sets);
  const named = new Float64Array(sets);
  const { marks, start, count } = prep;
  for (let g = 0; g < prep.groups; g++) {
    const w = count[g];
    let before = 0;
    let rank = 0;
    for (let m = start[g]; m < start[g + 1]; m++) {
      const c = candidateOf(marks[m]);
      const bit = 1 << c;
      // A candidate named again later keeps its first rank.
      if (((before | rank) & bit) === 0) {
        above[c * sets + before] += w;
        rank |= bit;
      }
      if ((marks[m] & TIED) === 0) {
        before |= rank;
        rank = 0;
      }
    }
    named[before | rank] += w;
  }
  const d = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let set = 1; set < sets; set++) {
      const w = above[c * sets + set];
      if (w !== 0) for (let i = 0; i < n; i++) if (set & (1 << i)) d[i * n + c] += w;
    }
  }
  for (let set = 1; set < sets; set++) {
    const w = named[set];
    if (w === 0) continue;
    for (let i = 0; i < n; i++) {
      if ((set & (1 << i)) === 0) continue;
      for (let j = 0; j < n; j++) if ((set & (1 << j)) === 0) d[i * n + j] += w;
    }
  }
  return d;
}

function byRanks(prep: PreparedBallots): Float64Array {
  const n = prep.ids.length;
  const d = new Float64Array(n * n);
  const rankOf = new Int32Array(n);
  const { marks, start, count } = prep;
  for (let g = 0; g < prep.groups; g++) {
    // rankOf: a rank number per candidate, ties sharing one; `unranked` for those left out.
    const unranked = start[g + 1] - start[g];
    rankOf.fill(unranked);
    let rank = 0;
    for (let m = start[g]; m < start[g + 1]; m++) {
      const c = candidateOf(marks[m]);
      if (rankOf[c] === unranked) rankOf[c] = rank;
      if ((marks[m] & TIED) === 0) rank++;
    }
    const w = count[g];
    for (let i = 0; i < n; i++) {
      const ri = rankOf[i];
      if (ri === unranked) continue;
      const row = i * n;
      for (let j = 0; j < n; j++) if (ri < rankOf[j]) d[row + j] += w;
    }
  }
  return d;
}

/** p[i][j]: strength of the strongest path from i to j, a link i->j being d[i][j] when it wins. */
export function strongestPaths(d: number[][]): number[][] {
  const n = d.length;
  const p = d.map((row, i) => row.map((v, j) => (i !== j && v > d[j][i] ? v : 0)));
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const pik = p[i][k];
      if (pik === 0) continue;
      for (let j = 0; j < n; j++) {
        if (j === i || j === k) continue;
        const via = Math.min(pik, p[k][j]);
        if (via > p[i][j]) p[i][j] = via;
      }
    }
  }
  return p;
}

/** Groups best first: each group is every remaining candidate no remaining candidate beats. */
export function schulzeRanking(p: number[][]): number[][] {
  let left = indices(p.length);
  const groups: number[][] = [];
  while (left.length > 0) {
    const top = left.filter((i) => !left.some((j) => p[j][i] > p[i][j]));
    groups.push(top);
    left = left.filter((i) => !top.includes(i));
  }
  return groups;
}

export function tabulateSchulze(prep: PreparedBallots, opts: ResolvedOptions): TallyResult {
  const n = prep.ids.length;
  const d = pairwiseMatrix(prep);
  const p = strongestPaths(d);
  const groups = schulzeRanking(p);

  const first = new Array<number>(n).fill(0);
  for (let g = 0; g < prep.groups; g++) {
    const m = prep.marks[prep.start[g]];
    if ((m & TIED) === 0) first[m] += prep.count[g];
  }
  const valid = prep.total - prep.blank;

  const ctx: TieContext = { seedHex: opts.seedHex, ids: prep.ids, names: prep.names, ties: [] };
  const winners: number[] = [];
  for (const [place, group] of groups.entries()) {
    const room = opts.seats - winners.length;
    if (room <= 0 || valid === 0) break;
    winners.push(...chooseByLot(ctx, group, room, { decides: "election", now: `place ${place + 1} of the ranking`, outcome: "is elected" }));
  }
  const won = new Set(winners);
  const groupOf = new Array<number>(n);
  groups.forEach((g, k) => g.forEach((c) => (groupOf[c] = k)));
  const rest = groups.flat().filter((c) => !won.has(c));

  return {
    method: "schulze",
    seats: opts.seats,
    ballots: prep.total,
    validBallots: valid,
    candidates: candidateResults(prep, {
      order: [...winners, ...rest],
      winners: won,
      level: (a, b) => groupOf[a] === groupOf[b],
      votes: (c) => String(first[c]),
      share: (c) => first[c],
      validBallots: valid,
    }),
    winners: winners.map((c) => prep.ids[c]),
    rounds: [],
    pairwise: { candidates: [...prep.ids], matrix: d, strongest: p },
    ranking: groups.map((g) => g.map((c) => prep.ids[c])),
    ties: ctx.ties,
    notes: [
      "Schulze method, winning votes: d[i][j] counts ballots ranking i above j; a candidate a ballot leaves out is ranked below all it names, and candidates sharing a rank are tied (so the overvote option does not apply).",
      "Strongest paths: a link i->j has strength d[i][j] when d[i][j] > d[j][i], else 0; p[i][j] is the largest, over all paths, of the weakest link (Floyd-Warshall). i ranks above j when p[i][j] > p[j][i].",
      `Ranking: each place holds every remaining candidate that no remaining candidate ranks above; the top ${opts.seats === 1 ? "candidate is" : `${opts.seats} candidates are`} elected. Candidate votes are first preferences (a first rank naming one candidate).`,
      tieNote(opts.seedHex, false),
      ...ballotNote(prep),
      ...(valid === 0 ? [NOTHING_COUNTED_NOTE] : []),
    ],
  };
}
