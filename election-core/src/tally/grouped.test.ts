// Counting distinct rankings with their counts gives what counting ballot by ballot gives:
// every method on a RankingMultiset equals the same ballots one by one, and plurality,
// approval, irv rounds and schulze's matrix equal recounts written here ballot by ballot.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RankingMultiset } from "./multiset.js";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate, OvervoteRule, TallyOptions } from "./types.js";

const IDS = [1, 2, 3, 4, 5];
const candidates: Candidate[] = IDS.map((id) => ({ id, name: `C${id}` }));

/** Ballots as written, overvotes and an unlisted id included, each with a weight. */
const ballotsOver = (ids: number[]) =>
  fc.array(
    fc.record({
      ranks: fc.array(fc.array(fc.constantFrom(...ids, 99), { minLength: 1, maxLength: 2 }), { maxLength: 6 }),
      count: fc.integer({ min: 1, max: 4 }),
    }),
    { maxLength: 40 },
  );
const ballots = ballotsOver(IDS);

const oneByOne = (bs: BallotGroup[]) => bs.flatMap((b) => Array.from({ length: b.count }, () => ({ ranks: b.ranks, count: 1 })));
function multiset(bs: BallotGroup[]): RankingMultiset {
  const ms = new RankingMultiset();
  for (const b of bs) ms.add(b.ranks, b.count);
  return ms;
}

const OPTIONS: TallyOptions[] = [
  { method: "plurality", seats: 2 },
  { method: "approval", seats: 2 },
  ...(["exhaust", "skip", "exhaust-if-continuing"] as OvervoteRule[]).flatMap((overvote): TallyOptions[] => [
    { method: "irv", overvote, batchElimination: true },
    { method: "irv", overvote },
    { method: "stv", overvote, seats: 2, stvVariant: "scottish" },
    { method: "stv", overvote, seats: 2, stvVariant: "wigm", batchElimination: true },
    { method: "stv", overvote, seats: 2, stvVariant: "meek" },
  ]),
  { method: "schulze", seats: 2 },
];

/** The ballot's candidate under the overvote rule, ranks naming only others passed over (types.ts). */
function countsFor(ranks: number[][], live: Set<number>, rule: OvervoteRule): number | undefined {
  for (const rank of ranks) {
    const listed = [...new Set(rank.filter((c) => IDS.includes(c)))];
    if (listed.length === 0) continue;
    if (listed.length === 1) {
      if (live.has(listed[0])) return listed[0];
      continue;
    }
    if (rule === "exhaust") return undefined;
    if (rule === "skip") continue;
    const inCount = listed.filter((c) => live.has(c));
    if (inCount.length >= 2) return undefined;
    if (inCount.length === 1) return inCount[0];
  }
  return undefined;
}

describe("grouped counts equal ballot-by-ballot counts", () => {
  it("every method on the multiset equals the ballots one by one", () => {
    fc.assert(
      fc.property(ballots, fc.constantFrom(...OPTIONS), (bs, options) => {
        expect(tabulate(candidates, multiset(bs), options)).toEqual(tabulate(candidates, oneByOne(bs), options));
      }),
      { numRuns: 150 },
    );
  });

  it("a multiset whose codes are not the candidates' places (renumbered when counted) equals the same ballot groups", () => {
    // Codes 11..15: prepareBallots maps them to indices instead of reading the multiset in place.
    const shifted = candidates.map((c) => ({ id: c.id + 10, name: c.name }));
    const shift = (bs: BallotGroup[]) => bs.map((b) => ({ ranks: b.ranks.map((r) => r.map((c) => c + 10)), count: b.count }));
    fc.assert(
      fc.property(ballots, fc.constantFrom(...OPTIONS), (bs, options) => {
        expect(tabulate(shifted, multiset(shift(bs)), options)).toEqual(tabulate(shifted, shift(bs), options));
      }),
      { numRuns: 150 },
    );
  });

  it("ballot groups naming ids beyond 65535, id 0 or ids no candidate has count the listed ones and pass over the rest", () => {
    const cands = [70_001, 0, 5, 2 ** 40].map((id) => ({ id, name: `C${id}` }));
    const r = tabulate(
      cands,
      [
        { ranks: [[70_001], [5]], count: 3 },
        { ranks: [[99], [0]], count: 2 },
        { ranks: [[1.5], [2 ** 40]], count: 4 },
        { ranks: [[70_002]], count: 1 },
      ],
      { method: "irv" },
    );
    expect(r.rounds[0].counts).toEqual([
      { candidateId: 70_001, votes: "3" },
      { candidateId: 0, votes: "2" },
      { candidateId: 5, votes: "0" },
      { candidateId: 2 ** 40, votes: "4" },
    ]);
    expect([r.ballots, r.validBallots]).toEqual([10, 9]);
    expect(r.notes).toContain("7 ballot(s) named candidates not in the count (e.g. withdrawn); those marks were passed over.");
  });

  it("plurality and approval equal a ballot-by-ballot count", () => {
    fc.assert(
      fc.property(ballots, (bs) => {
        const each = oneByOne(bs);
        for (const method of ["plurality", "approval"] as const) {
          const r = tabulate(candidates, multiset(bs), { method });
          const votes = new Map(IDS.map((c) => [c, 0]));
          for (const b of each) {
            const first = b.ranks.map((rank) => [...new Set(rank.filter((c) => IDS.includes(c)))]).find((rank) => rank.length > 0) ?? [];
            if (method === "approval" || first.length === 1) for (const c of first) votes.set(c, votes.get(c)! + 1);
          }
          expect(Object.fromEntries(r.rounds[0].counts.map((c) => [c.candidateId, Number(c.votes)]))).toEqual(Object.fromEntries(votes));
        }
      }),
    );
  });

  it("every irv round equals a recount of every ballot over the candidates still in", () => {
    fc.assert(
      fc.property(ballots, fc.constantFrom<OvervoteRule>("exhaust", "skip", "exhaust-if-continuing"), fc.boolean(), (bs, overvote, batchElimination) => {
        const r = tabulate(candidates, multiset(bs), { method: "irv", overvote, batchElimination });
        const live = new Set(IDS);
        // An overvote that exhausted a ballot keeps it exhausted.
        const exhaustedBallots = new Set<number>();
        const each = oneByOne(bs);
        for (const round of r.rounds) {
          const votes = new Map([...live].map((c) => [c, 0]));
          let exhausted = 0;
          each.forEach((b, k) => {
            const c = exhaustedBallots.has(k) ? undefined : countsFor(b.ranks, live, overvote);
            if (c === undefined) {
              exhausted++;
              if (b.ranks.some((rank) => rank.some((x) => IDS.includes(x)))) exhaustedBallots.add(k);
            } else votes.set(c, votes.get(c)! + 1);
          });
          const blank = each.filter((b) => !b.ranks.some((rank) => rank.some((x) => IDS.includes(x)))).length;
          expect(Object.fromEntries(round.counts.map((c) => [c.candidateId, Number(c.votes)]))).toEqual(Object.fromEntries(votes));
          expect(Number(round.exhausted)).toBe(exhausted - blank);
          for (const c of round.eliminated) live.delete(c);
        }
      }),
    );
  });

  // 5 candidates take the prefix-set path, 14 the rank-by-rank one.
  it.each([5, 14])("schulze's pairwise matrix over %i candidates equals a ballot-by-ballot count of who is ranked above whom", (size) => {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const cands = ids.map((id) => ({ id, name: `C${id}` }));
    fc.assert(
      fc.property(ballotsOver(ids), (bs) => {
        const r = tabulate(cands, multiset(bs), { method: "schulze" });
        const d = ids.map(() => ids.map(() => 0));
        for (const b of oneByOne(bs)) {
          const rankOf = new Map<number, number>();
          b.ranks.forEach((rank, i) => rank.forEach((c) => ids.includes(c) && !rankOf.has(c) && rankOf.set(c, i)));
          for (const [i, a] of ids.entries()) for (const [j, c] of ids.entries()) if (rankOf.has(a) && rankOf.get(a)! < (rankOf.get(c) ?? Infinity)) d[i][j]++;
        }
        expect(r.pairwise?.matrix).toEqual(d);
      }),
    );
  });
});
