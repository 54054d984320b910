// Turns the caller's ballots into the compact form every method counts: candidate indices
// instead of ids, identical rankings merged into one group with a count.
import { TallyInputError } from "./errors.js";
import { CANDIDATE, KeyBuilder, MAX_CODE, RankingMultiset, TIED } from "./multiset.js";
import type { BallotGroup, Candidate, OvervoteRule } from "./types.js";

export { TallyInputError, TIED };

/**
 * Distinct non-blank rankings over candidate indices, packed: group g's marks are
 * marks[start[g]] .. marks[start[g + 1] - 1], each a candidate index, plus TIED when the next
 * mark shares its rank; count[g] ballots cast it. A million ballots cost a few typed arrays.
 * Methods only read these arrays (they may be a multiset's own).
 */
export interface PreparedBallots {
  /** Candidate ids and names by index, in the caller's order. */
  ids: number[];
  names: string[];
  groups: number;
  start: Int32Array;
  marks: Int32Array;
  count: Float64Array;
  /** Every ballot given, blank ones included. */
  total: number;
  /** Ballots that mark no listed candidate. */
  blank: number;
  /** Ballots that named an id missing from the candidate list (those marks were ignored). */
  unlisted: number;
}

/**
 * Ballot groups name candidates by id and are merged by ranking here; a RankingMultiset
 * names them by code, which must then be the candidate ids. When the candidates are 1..n in
 * order (a BLT file, or ballot groups once merged here), the multiset's arrays are used as they are.
 */
export function prepareBallots(candidates: readonly Candidate[], ballots: Iterable<BallotGroup> | RankingMultiset): PreparedBallots {
  const indexOf = new Map<number, number>();
  candidates.forEach((c, i) => {
    if (!Number.isSafeInteger(c.id)) throw new TallyInputError(`candidate id ${c.id} is not an integer`);
    if (indexOf.has(c.id)) throw new TallyInputError(`candidate id ${c.id} is listed twice`);
    indexOf.set(c.id, i);
  });
  const base = { ids: candidates.map((c) => c.id), names: candidates.map((c) => c.name) };
  if (ballots instanceof RankingMultiset && ballots.largestCode <= candidates.length && candidates.every((c, i) => c.id === i + 1)) {
    return { ...base, ...inPlace(ballots), unlisted: 0 };
  }
  // Candidate index by id, -1 for none: an array for ids up to MAX_CODE (a map lookup per mark
  // costs more than the rest). One array for every call, cleared after use: a live tally
  // prepares a few groups many times a second, and allocating 256 KB each time cost more than counting them.
  const near = nearById ?? new Int32Array(MAX_CODE + 1).fill(-1);
  nearById = undefined;
  try {
    for (const [id, i] of indexOf) if (id >= 0 && id <= MAX_CODE) near[id] = i;
    return prepareWith(candidates, ballots, indexOf, base, near);
  } finally {
    for (const id of indexOf.keys()) if (id >= 0 && id <= MAX_CODE) near[id] = -1;
    nearById = near;
  }
}

/** Index by id, all -1, kept between calls of prepareBallots (taken while one runs). */
let nearById: Int32Array | undefined;

function prepareWith(candidates: readonly Candidate[], ballots: Iterable<BallotGroup> | RankingMultiset, indexOf: Map<number, number>, base: { ids: number[]; names: string[] }, near: Int32Array): PreparedBallots {
  // Codes are ids.
  if (ballots instanceof RankingMultiset) return { ...base, ...pack(ballots, near) };
  if (candidates.length > MAX_CODE) throw new TallyInputError(`at most ${MAX_CODE} candidates can be counted, got ${candidates.length}`);
  const far = indexOf.size > 0 && candidates.some((c) => c.id < 0 || c.id > MAX_CODE);
  // Ids become codes index + 1; unlisted ids are dropped here and counted.
  const merged = new RankingMultiset();
  const key = new KeyBuilder();
  let unlisted = 0;
  for (const b of ballots) {
    let sawUnlisted = false;
    const ranks = b.ranks;
    for (let r = 0; r < ranks.length; r++) {
      const rank = ranks[r];
      for (let k = 0; k < rank.length; k++) {
        const id = rank[k];
        const i = (id | 0) === id && id >= 0 && id <= MAX_CODE ? near[id] : far ? (indexOf.get(id) ?? -1) : -1;
        if (i < 0) sawUnlisted = true;
        else key.mark(i + 1);
      }
      key.endRank();
    }
    key.addTo(merged, b.count);
    if (sawUnlisted) unlisted += b.count;
  }
  return { ...base, ...inPlace(merged), unlisted };
}

/** The multiset's own arrays, its codes 1..n being the candidate indices 0..n-1. */
function inPlace(ms: RankingMultiset): Omit<PreparedBallots, "ids" | "names" | "unlisted"> {
  const p = ms.packed();
  return { groups: p.rankings, start: p.start, marks: p.marks, count: p.count, total: ms.total, blank: ms.blank };
}

/** The multiset's rankings as packed groups over indices (byId[code]); codes mapping to -1 are passed over. */
function pack(ms: RankingMultiset, byId: Int32Array): Omit<PreparedBallots, "ids" | "names"> {
  const src = ms.packed();
  const marks = new Int32Array(src.marks.length);
  const start = new Int32Array(src.rankings + 1);
  const count = new Float64Array(src.rankings);
  let groups = 0;
  let at = 0;
  let blank = ms.blank;
  let unlisted = 0;
  for (let e = 0; e < src.rankings; e++) {
    const first = at;
    let rankStart = at;
    let newRank = true;
    let sawUnlisted = false;
    for (let k = src.start[e]; k < src.start[e + 1]; k++) {
      const m = src.marks[k];
      if (newRank) rankStart = at;
      newRank = (m & TIED) === 0;
      const i = byId[(m & CANDIDATE) + 1];
      if (i < 0) {
        sawUnlisted = true;
        continue;
      }
      // A mark joining a rank that already kept one: the previous mark is tied with it.
      if (at > rankStart) marks[at - 1] |= TIED;
      marks[at++] = i;
    }
    const n = src.count[e];
    if (sawUnlisted) unlisted += n;
    if (at === first) {
      blank += n;
      continue;
    }
    count[groups++] = n;
    start[groups] = at;
  }
  return { groups, start: start.subarray(0, groups + 1), marks: marks.subarray(0, at), count: count.subarray(0, groups), total: ms.total, blank, unlisted };
}

/**
 * Where a ballot goes next: the mark index and candidate; or candidate -1 when exhausted,
 * with pos the first mark of the overvoted rank that exhausted it, or `end` when it ran out.
 * After a candidate is found, pos is the last mark of its rank, so the ballot resumes at pos + 1.
 */
export interface NextPreference {
  pos: number;
  candidate: number;
}

// One answer object, reused: callers read it at once (this runs once per ballot group per move).
const answer: NextPreference = { pos: 0, candidate: -1 };
const found = (pos: number, candidate: number): NextPreference => {
  answer.pos = pos;
  answer.candidate = candidate;
  return answer;
};

/**
 * The next usable preference in marks[from .. end), for the continuing set (live[c] === 1) and
 * overvote rule (see OvervoteRule in types.ts). Ranks naming only non-continuing candidates are
 * passed over.
 */
export function nextPreference(marks: Int32Array, from: number, end: number, live: Uint8Array, rule: OvervoteRule): NextPreference {
  for (let i = from; i < end; i++) {
    const m = marks[i];
    if ((m & TIED) === 0) {
      if (live[m] === 1) return found(i, m);
      continue;
    }
    let last = i;
    while (marks[last] & TIED) last++;
    if (rule === "exhaust") return found(i, -1);
    if (rule === "skip") {
      i = last;
      continue;
    }
    let only = -1;
    let count = 0;
    for (let j = i; j <= last; j++) {
      const c = marks[j] & CANDIDATE;
      if (live[c] === 1) {
        count++;
        only = c;
      }
    }
    if (count >= 2) return found(i, -1);
    if (count === 1) return found(last, only);
    i = last;
  }
  return found(end, -1);
}

export const candidateOf = (mark: number): number => mark & CANDIDATE;

/** One pile of ballot groups per candidate, as linked lists: moving a pile allocates nothing. */
export class Piles {
  private readonly head: Int32Array;
  private readonly link: Int32Array;

  private readonly order: Int32Array;

  constructor(candidates: number, groups: number) {
    this.head = new Int32Array(candidates).fill(-1);
    this.link = new Int32Array(groups);
    this.order = new Int32Array(groups);
  }

  push(c: number, group: number): void {
    this.link[group] = this.head[c];
    this.head[c] = group;
  }

  /**
   * Empties c's pile, calling fn on each of its groups in group order (fn may push them onto
   * other piles): with many distinct rankings, reading them in memory order is what costs least.
   */
  drain(c: number, fn: (group: number) => void): void {
    let n = 0;
    for (let g = this.head[c]; g >= 0; g = this.link[g]) this.order[n++] = g;
    this.head[c] = -1;
    const order = this.order.subarray(0, n).sort();
    for (let k = 0; k < n; k++) fn(order[k]);
  }
}

export function describeOvervote(rule: OvervoteRule): string {
  switch (rule) {
    case "exhaust":
      return 'Overvotes ("exhaust"): a ballot that reaches a rank holding two or more candidates is exhausted there and stays exhausted.';
    case "skip":
      return 'Overvotes ("skip"): a rank holding two or more candidates is passed over and the next rank is used.';
    case "exhaust-if-continuing":
      return 'Overvotes ("exhaust-if-continuing"): a rank holding two or more continuing candidates exhausts the ballot, which stays exhausted; with one continuing candidate it counts for that one; with none it is passed over.';
  }
}
