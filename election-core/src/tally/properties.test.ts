// Properties every count must have, checked on random elections with fast-check.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate, OvervoteRule, StvVariant, TallyOptions, TallyResult } from "./types.js";

interface Election {
  candidates: Candidate[];
  ballots: BallotGroup[];
}

const OVERVOTES: OvervoteRule[] = ["exhaust", "skip", "exhaust-if-continuing"];
const VARIANTS: StvVariant[] = ["scottish", "wigm", "meek"];

/** A ranked ballot over some of the candidates; `joins` put neighbours at one rank (an overvote). */
const ballot = (ids: number[], ties: boolean) =>
  fc
    .record({
      order: fc.shuffledSubarray(ids, { minLength: 0, maxLength: ids.length }),
      joins: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
      count: fc.integer({ min: 1, max: 6 }),
    })
    .map(({ order, joins, count }): BallotGroup => {
      const ranks: number[][] = [];
      order.forEach((c, i) => (i > 0 && ties && joins[i] && joins[i - 1] ? ranks[ranks.length - 1].push(c) : ranks.push([c])));
      return { ranks, count };
    });

const election = (opts: { ties?: boolean; maxCandidates?: number } = {}) =>
  fc.integer({ min: 2, max: opts.maxCandidates ?? 5 }).chain((n) => {
    const ids = Array.from({ length: n }, (_, i) => (i + 1) * 3); // ids need not be 1..n
    return fc.array(ballot(ids, opts.ties ?? false), { maxLength: 20 }).map((ballots): Election => ({ candidates: ids.map((id) => ({ id, name: `C${id}` })), ballots }));
  });

const anyOptions: fc.Arbitrary<TallyOptions> = fc.oneof(
  fc.record({ method: fc.constant("plurality" as const), seats: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ method: fc.constant("approval" as const), seats: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ method: fc.constant("irv" as const), batchElimination: fc.boolean(), overvote: fc.constantFrom(...OVERVOTES) }),
  fc.record({
    method: fc.constant("stv" as const),
    seats: fc.integer({ min: 1, max: 3 }),
    stvVariant: fc.constantFrom(...VARIANTS),
    batchElimination: fc.boolean(),
    overvote: fc.constantFrom(...OVERVOTES),
  }),
  fc.record({ method: fc.constant("schulze" as const), seats: fc.integer({ min: 1, max: 2 }) }),
);

/** Ballots shuffled and groups split into several, the same multiset written differently. */
function rewrite(ballots: BallotGroup[], seed: number): BallotGroup[] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: BallotGroup[] = [];
  for (const b of ballots) {
    let left = b.count;
    while (left > 0) {
      const part = 1 + Math.floor(rand() * left);
      out.push({ ranks: b.ranks.map((r) => [...r].reverse()), count: part });
      left -= part;
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** "12.34500" -> 1234500n at 5 decimals. */
function units(s: string, decimals: number): bigint {
  const [whole, frac = ""] = s.split(".");
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
}

const decimalsOf = (r: TallyResult) => (r.rounds[0]?.counts[0]?.votes.split(".")[1] ?? "").length;

describe("properties of every count", () => {
  it("the result depends only on the multiset of ballots, not on their order or grouping", () => {
    fc.assert(
      fc.property(election({ ties: true }), anyOptions, fc.integer(), (e, options, seed) => {
        expect(tabulate(e.candidates, rewrite(e.ballots, seed), options)).toEqual(tabulate(e.candidates, e.ballots, options));
      }),
      { numRuns: 300 },
    );
  });

  it("a candidate with a majority of first preferences wins irv", () => {
    fc.assert(
      fc.property(election({ ties: true }), fc.nat(), fc.boolean(), fc.constantFrom(...OVERVOTES), (e, pick, batchElimination, overvote) => {
        const star = e.candidates[pick % e.candidates.length].id;
        const others = e.ballots.reduce((s, b) => s + b.count, 0);
        const ballots = [...e.ballots, { ranks: [[star]], count: others + 1 }];
        expect(tabulate(e.candidates, ballots, { method: "irv", batchElimination, overvote }).winners).toEqual([star]);
      }),
    );
  });

  it("a Condorcet winner, when there is one, wins schulze", () => {
    fc.assert(
      fc.property(election({ ties: true }), (e) => {
        // Pairwise counts computed here independently of the library.
        const ids = e.candidates.map((c) => c.id);
        const beats = (x: number, y: number) =>
          e.ballots.reduce((s, b) => {
            const rank = (c: number) => {
              const i = b.ranks.findIndex((r) => r.includes(c));
              return i < 0 ? Infinity : i;
            };
            return s + (rank(x) < rank(y) ? b.count : 0);
          }, 0);
        const winner = ids.find((x) => ids.every((y) => y === x || beats(x, y) > beats(y, x)));
        fc.pre(winner !== undefined);
        const r = tabulate(e.candidates, e.ballots, { method: "schulze" });
        expect(r.winners).toEqual([winner]);
        expect(r.ranking![0]).toEqual([winner]);
      }),
    );
  });

  it("stv with one seat elects irv's winner, under every variant and option", () => {
    fc.assert(
      fc.property(election({ ties: true }), fc.boolean(), fc.constantFrom(...OVERVOTES), fc.constantFrom(...VARIANTS), (e, batchElimination, overvote, stvVariant) => {
        const irv = tabulate(e.candidates, e.ballots, { method: "irv", batchElimination, overvote, tieBreakSeed: "a1" });
        const stv = tabulate(e.candidates, e.ballots, { method: "stv", seats: 1, stvVariant, batchElimination, overvote, tieBreakSeed: "a1" });
        expect(stv.winners).toEqual(irv.winners);
      }),
      { numRuns: 300 },
    );
  });

  it("irv counts every valid ballot exactly once in every round, and rounds follow from transfers", () => {
    fc.assert(
      fc.property(election({ ties: true }), fc.boolean(), fc.constantFrom(...OVERVOTES), (e, batchElimination, overvote) => {
        const r = tabulate(e.candidates, e.ballots, { method: "irv", batchElimination, overvote });
        r.rounds.forEach((round, k) => {
          const sum = round.counts.reduce((s, c) => s + Number(c.votes), 0);
          expect(sum + Number(round.exhausted)).toBe(r.validBallots);
          const next = r.rounds[k + 1];
          if (!next) return;
          const expected = new Map(round.counts.map((c) => [c.candidateId, Number(c.votes)]));
          for (const t of round.transfers) {
            expected.delete(t.from);
            for (const to of t.to) expected.set(to.candidateId, (expected.get(to.candidateId) ?? 0) + Number(to.votes));
          }
          expect(new Map(next.counts.map((c) => [c.candidateId, Number(c.votes)]))).toEqual(expected);
        });
      }),
    );
  });

  it("stv never counts more than the valid ballots, and loses at most rounding", () => {
    fc.assert(
      fc.property(election({ ties: true }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...VARIANTS), fc.constantFrom(...OVERVOTES), (e, seats, stvVariant, overvote) => {
        const r = tabulate(e.candidates, e.ballots, { method: "stv", seats, stvVariant, overvote });
        const dec = decimalsOf(r);
        const valid = BigInt(r.validBallots) * 10n ** BigInt(dec);
        // Scottish loses < 0.00001 per paper group per transfer; WIGM shows values rounded down
        // (< 1e-9 each); Meek rounds every keep down (< 1e-9 per ballot and candidate).
        const slack = BigInt(e.ballots.length * (e.candidates.length + 1) * r.rounds.length + e.candidates.length + 1);
        for (const round of r.rounds) {
          const held = round.counts.reduce((s, c) => s + units(c.votes, dec), 0n) + units(round.exhausted, dec);
          expect(held <= valid).toBe(true);
          expect(valid - held <= (stvVariant === "meek" ? slack * BigInt(r.validBallots + 1) : slack)).toBe(true);
        }
        if (stvVariant !== "scottish" || r.rounds.length === 0) return;
        // Scottish values are exact multiples of 0.00001: the first stage holds every valid vote.
        const first = r.rounds[0];
        expect(first.counts.reduce((s, c) => s + units(c.votes, dec), 0n) + units(first.exhausted, dec)).toBe(valid);
      }),
    );
  });

  it("fills min(seats, candidates) seats with distinct candidates, winners first; none when no ballot counts for anyone", () => {
    fc.assert(
      fc.property(election({ ties: true }), anyOptions, (e, options) => {
        const r = tabulate(e.candidates, e.ballots, options);
        const seats = options.seats ?? 1;
        const counted = r.rounds.length > 0 ? r.rounds[0].counts.some((c) => Number(c.votes) > 0) : r.validBallots > 0;
        expect(new Set(r.winners).size).toBe(r.winners.length);
        expect(r.winners).toHaveLength(counted ? Math.min(seats, e.candidates.length) : 0);
        expect(r.candidates.slice(0, r.winners.length).map((c) => c.id)).toEqual(r.winners);
        expect(r.candidates.map((c) => c.id).sort()).toEqual(e.candidates.map((c) => c.id).sort());
        for (const t of r.ties) expect(t.among).toContain(t.chosen);
      }),
    );
  });

  it("plurality with several seats picks the top N", () => {
    fc.assert(
      fc.property(election(), fc.integer({ min: 1, max: 4 }), (e, seats) => {
        const ballots = e.ballots.map((b) => ({ ranks: b.ranks.slice(0, 1), count: b.count }));
        const r = tabulate(e.candidates, ballots, { method: "plurality", seats });
        const votes = new Map(r.candidates.map((c) => [c.id, Number(c.votes)]));
        const won = r.winners.map((c) => votes.get(c)!);
        const lost = r.candidates.filter((c) => !c.elected).map((c) => votes.get(c.id)!);
        expect(Math.min(...won)).toBeGreaterThanOrEqual(Math.max(...lost, 0));
        expect(r.rounds[0].counts.reduce((s, c) => s + Number(c.votes), 0)).toBe(r.validBallots);
      }),
    );
  });
});
