// Meek's chains move ballots only when the candidate their chain ends at is elected or
// defeated, and count in doubles while that is exact; that must count exactly as chains built
// afresh from every ballot for the same elected and defeated candidates, counted in BigInt
// (under "exhaust" and "skip", where building afresh cannot revive a ballot an overvote exhausted).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { prepareBallots } from "./ballots.js";
import { Chains, DEFEATED, ELECTED, HOPEFUL, mulDivOne, ONE } from "./meek-chains.js";
import { resolveOptions } from "./options.js";
import type { BallotGroup } from "./types.js";

const N = 6;
const candidates = Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `C${i + 1}` }));
const ballots = fc.array(
  fc.record({
    ranks: fc.array(fc.array(fc.integer({ min: 1, max: N }), { minLength: 1, maxLength: 2 }), { maxLength: 7 }),
    count: fc.integer({ min: 1, max: 5 }),
  }),
  { maxLength: 40 },
);
/** Who is elected or defeated next (an index into the hopefuls left), and the keep factors then. */
const steps = fc.array(fc.record({ pick: fc.nat(), elect: fc.boolean(), kf: fc.array(fc.bigInt({ min: 0n, max: ONE }), { minLength: N, maxLength: N }) }), { maxLength: N });

describe("Meek chains", () => {
  it("mulDivOne is floor(a x b / 10^9) exactly for a, b in 0..10^9", () => {
    const whole = fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.constantFrom(0, 1, 99_999, 100_000, 100_001, 1e9 - 1, 1e9));
    fc.assert(
      fc.property(whole, whole, (a, b) => {
        expect(BigInt(mulDivOne(a, b))).toBe((BigInt(a) * BigInt(b)) / ONE);
      }),
      { numRuns: 20_000 },
    );
  });

  it("moved ballot by ballot as candidates are elected and defeated, count as chains built afresh", () => {
    fc.assert(
      fc.property(ballots, steps, fc.constantFrom("exhaust" as const, "skip" as const), (bs: BallotGroup[], moves, overvote) => {
        const prep = prepareBallots(candidates, bs);
        const opts = resolveOptions({ method: "stv", stvVariant: "meek", overvote });
        const status = new Uint8Array(N);
        const chains = new Chains(prep, opts, status);
        for (const { pick, elect, kf } of moves) {
          const hopeful = [...status.keys()].filter((c) => status[c] === HOPEFUL);
          if (hopeful.length === 0) break;
          const c = hopeful[pick % hopeful.length];
          status[c] = elect ? ELECTED : DEFEATED;
          if (elect) chains.elected(c);
          else chains.defeated(c);
          const keep = kf.map((k, d) => (status[d] === ELECTED ? k : status[d] === DEFEATED ? 0n : ONE));
          const moved = new Array<bigint>(N).fill(0n);
          const afresh = new Array<bigint>(N).fill(0n);
          const exhaustedMoved = chains.distribute(keep, moved);
          const exhaustedAfresh = new Chains(prep, opts, status.slice(), false).distribute(keep, afresh);
          expect(moved).toEqual(afresh);
          expect(exhaustedMoved).toBe(exhaustedAfresh);
        }
      }),
      { numRuns: 300 },
    );
  });
});
