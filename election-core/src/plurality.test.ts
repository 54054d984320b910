import { describe, expect, it } from "vitest";
import { tallyPlurality } from "./plurality.js";

const candidates = [
  { id: 3, name: "alice" },
  { id: 4, name: "bob" },
  { id: 9, name: "carol" },
];

describe("plurality tally", () => {
  it("counts a multiset of ballots, lists every candidate and marks the leader", () => {
    const t = tallyPlurality(new Map([["3", 5], ["4", 2], ["9", 3]]), candidates);
    expect(t.totalBallots).toBe(10);
    expect(t.candidates.map((c) => [c.candidateId, c.votes, c.percentage, c.leading])).toEqual([
      [3, 5, 50, true],
      [9, 3, 30, false],
      [4, 2, 20, false],
    ]);
  });

  it("marks every tied leader and orders ties by id", () => {
    const t = tallyPlurality(new Map([["9", 2], ["4", 2]]), candidates);
    expect(t.candidates.map((c) => [c.candidateId, c.leading])).toEqual([[4, true], [9, true], [3, false]]);
  });

  it("with no ballots, nobody leads and shares are 0", () => {
    const t = tallyPlurality(new Map(), candidates);
    expect(t.totalBallots).toBe(0);
    expect(t.candidates.every((c) => c.votes === 0 && c.percentage === 0 && !c.leading)).toBe(true);
  });

  it("still counts a ballot for an id missing from the candidate list", () => {
    const t = tallyPlurality(new Map([["77", 1]]), candidates);
    expect(t.candidates[0]).toMatchObject({ candidateId: 77, votes: 1, name: "candidate 77" });
  });

  it("refuses a ballot with more than one choice", () => {
    expect(() => tallyPlurality(new Map([["3,4", 1]]), candidates)).toThrow(/one choice/);
  });
});
