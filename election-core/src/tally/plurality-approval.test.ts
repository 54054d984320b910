import { describe, expect, it } from "vitest";
import { TallyInputError } from "./ballots.js";
import { tabulate } from "./tabulate.js";
import { tieBreakOrder } from "./ties.js";
import type { BallotGroup, Candidate } from "./types.js";

const abcd: Candidate[] = ["A", "B", "C", "D"].map((name, i) => ({ id: i + 1, name }));
const vote = (count: number, ...ids: number[]): BallotGroup => ({ ranks: [ids], count });

describe("plurality", () => {
  it("counts each ballot for its first rank and elects the most votes", () => {
    const r = tabulate(abcd, [vote(5, 2), vote(3, 1), vote(1, 4)], { method: "plurality" });
    expect(r.winners).toEqual([2]);
    expect(r.candidates.map((c) => [c.name, c.votes, c.position, c.elected])).toEqual([
      ["B", "5", 1, true],
      ["A", "3", 2, false],
      ["D", "1", 3, false],
      ["C", "0", 4, false],
    ]);
    expect(r.candidates[0].percentage).toBeCloseTo(55.5556, 3);
    expect(r.rounds).toEqual([
      {
        number: 1,
        counts: [
          { candidateId: 1, votes: "3" },
          { candidateId: 2, votes: "5" },
          { candidateId: 3, votes: "0" },
          { candidateId: 4, votes: "1" },
        ],
        exhausted: "0",
        elected: [2],
        eliminated: [],
        transfers: [],
      },
    ]);
  });

  it("with several seats elects the top N in order", () => {
    expect(tabulate(abcd, [vote(5, 2), vote(3, 1), vote(4, 3), vote(1, 4)], { method: "plurality", seats: 3 }).winners).toEqual([2, 3, 1]);
  });

  it("treats an overvoted first rank and a blank ballot as invalid", () => {
    const r = tabulate(abcd, [vote(2, 1), vote(1, 1, 2), { ranks: [], count: 1 }], { method: "plurality" });
    expect(r).toMatchObject({ ballots: 4, validBallots: 2, winners: [1] });
    expect(r.notes).toContain("1 overvoted ballot(s) were invalid.");
  });

  it("when candidates tie for the last seat, then a lot decides and is reported", () => {
    const r = tabulate(abcd, [vote(3, 1), vote(2, 2), vote(2, 3), vote(2, 4)], { method: "plurality", seats: 2, tieBreakSeed: "ff" });
    const lot = tieBreakOrder("ff", [2, 3, 4]);
    expect(r.winners).toEqual([1, lot[0].id]);
    expect(r.ties).toEqual([expect.objectContaining({ among: [2, 3, 4], chosen: lot[0].id, decides: "election", rule: "lot", round: 1 })]);
    // Tied candidates share a position, elected or not.
    expect(r.candidates.filter((c) => c.votes === "2").map((c) => c.position)).toEqual([2, 2, 2]);
  });
});

describe("approval", () => {
  it("counts every approved candidate once per ballot", () => {
    const r = tabulate(abcd, [vote(2, 1, 2), vote(1, 2, 3, 2), vote(1, 2)], { method: "approval" });
    expect(Object.fromEntries(r.candidates.map((c) => [c.name, c.votes]))).toEqual({ A: "2", B: "4", C: "1", D: "0" });
    expect(r.candidates[0].percentage).toBe(100);
    expect(r.validBallots).toBe(4);
  });

  it("with two seats elects the two most approved", () => {
    expect(tabulate(abcd, [vote(2, 1, 2), vote(3, 3, 4), vote(1, 4)], { method: "approval", seats: 2 }).winners).toEqual([4, 3]);
  });
});

describe("options", () => {
  it("rejects bad seats, methods and seeds", () => {
    expect(() => tabulate(abcd, [], { method: "plurality", seats: 0 })).toThrow(TallyInputError);
    expect(() => tabulate(abcd, [], { method: "borda" as never })).toThrow(/unknown method/);
    expect(() => tabulate(abcd, [], { method: "plurality", tieBreakSeed: "xyz" })).toThrow(/hex/);
  });

  it("rejects duplicate candidate ids and bad counts", () => {
    expect(() => tabulate([...abcd, { id: 1, name: "again" }], [], { method: "plurality" })).toThrow(/listed twice/);
    expect(() => tabulate(abcd, [vote(1.5, 1)], { method: "plurality" })).toThrow(/whole number/);
  });
});
