// Turns the caller's ballots into the compact form every method counts: candidate indices
// instead of ids, identical rankings merged into one group with a count.
import type { BallotGroup, Candidate, OvervoteRule } from "./types.js";

/** A ranked ballot over candidate indices (0..n-1); each rank is sorted and non-empty. */
export interface RankedGroup {
  ranks: number[][];
  count: number;
}

export interface PreparedBallots {
  /** Candidate ids and names by index, in the caller's order. */
  ids: number[];
  names: string[];
  /** Distinct non-blank rankings. */
  groups: RankedGroup[];
  /** Every ballot given, blank ones included. */
  total: number;
  /** Ballots that mark no listed candidate. */
  blank: number;
  /** Ballots that named an id missing from the candidate list (those marks were ignored). */
  unlisted: number;
}

/** Bad options or input to tabulate(): callers map it to INVALID_ARGUMENT. */
export class TallyInputError extends RangeError {
  override name = "TallyInputError";
}

export function prepareBallots(candidates: readonly Candidate[], ballots: Iterable<BallotGroup>): PreparedBallots {
  const indexOf = new Map<number, number>();
  candidates.forEach((c, i) => {
    if (!Number.isSafeInteger(c.id)) throw new TallyInputError(`candidate id ${c.id} is not an integer`);
    if (indexOf.has(c.id)) throw new TallyInputError(`candidate id ${c.id} is listed twice`);
    indexOf.set(c.id, i);
  });

  // Ranks are read-only from here on, so every one-candidate rank of a candidate is one array:
  // a million ballots then allocate almost nothing.
  const single = candidates.map((_, i) => [i]);

  const merged = new Map<string, RankedGroup>();
  // Ballots written the same way share one normalisation: most of a large input is repeats.
  const seen = new Map<string, { group: RankedGroup | undefined; unlisted: boolean }>();
  let total = 0;
  let blank = 0;
  let unlisted = 0;
  for (const b of ballots) {
    if (!Number.isSafeInteger(b.count) || b.count < 0) throw new TallyInputError(`ballot count ${b.count} is not a whole number >= 0`);
    if (b.count === 0) continue;
    total += b.count;
    const raw = rawKey(b.ranks);
    let known = seen.get(raw);
    if (!known) {
      known = normalize(b.ranks);
      seen.set(raw, known);
    }
    if (known.unlisted) unlisted += b.count;
    if (known.group) known.group.count += b.count;
    else blank += b.count;
  }

  function normalize(raw: number[][]): { group: RankedGroup | undefined; unlisted: boolean } {
    let sawUnlisted = false;
    const ranks: number[][] = [];
    for (const rank of raw) {
      const r: number[] = [];
      for (const id of rank) {
        const i = indexOf.get(id);
        if (i === undefined) sawUnlisted = true;
        else if (!r.includes(i)) r.push(i);
      }
      // A rank naming only unlisted (e.g. withdrawn) candidates is passed over.
      if (r.length === 1) ranks.push(single[r[0]]);
      else if (r.length > 1) ranks.push(r.sort((x, y) => x - y));
    }
    if (ranks.length === 0) return { group: undefined, unlisted: sawUnlisted };
    const key = rawKey(ranks);
    let group = merged.get(key);
    if (!group) merged.set(key, (group = { ranks, count: 0 }));
    return { group, unlisted: sawUnlisted };
  }
  if (!Number.isSafeInteger(total)) throw new TallyInputError("more ballots than can be counted exactly");
  return {
    ids: candidates.map((c) => c.id),
    names: candidates.map((c) => c.name),
    groups: [...merged.values()],
    total,
    blank,
    unlisted,
  };
}

function rawKey(ranks: readonly (readonly number[])[]): string {
  let key = "";
  for (let r = 0; r < ranks.length; r++) {
    if (r > 0) key += ">";
    const rank = ranks[r];
    for (let j = 0; j < rank.length; j++) key += j > 0 ? `=${rank[j]}` : `${rank[j]}`;
  }
  return key;
}

/**
 * Where a ballot goes next: the rank position and candidate; or candidate -1 when exhausted,
 * with pos the overvoted rank that exhausted it, or ranks.length when it ran out of ranks.
 */
export interface NextPreference {
  pos: number;
  candidate: number;
}

/**
 * The ballot's next usable preference at or after rank `from`, for the given continuing set
 * and overvote rule (see OvervoteRule in types.ts). Ranks naming only non-continuing
 * candidates are passed over.
 */
export function nextPreference(ranks: readonly number[][], from: number, continuing: (c: number) => boolean, rule: OvervoteRule): NextPreference {
  for (let i = from; i < ranks.length; i++) {
    const rank = ranks[i];
    if (rank.length === 1) {
      if (continuing(rank[0])) return { pos: i, candidate: rank[0] };
      continue;
    }
    if (rule === "exhaust") return { pos: i, candidate: -1 };
    if (rule === "skip") continue;
    let only = -1;
    let live = 0;
    for (const c of rank) {
      if (continuing(c)) {
        live++;
        only = c;
      }
    }
    if (live >= 2) return { pos: i, candidate: -1 };
    if (live === 1) return { pos: i, candidate: only };
  }
  return { pos: ranks.length, candidate: -1 };
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
