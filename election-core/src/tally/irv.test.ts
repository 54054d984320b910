import { describe, expect, it } from "vitest";
import { TallyInputError } from "./ballots.js";
import { tabulate } from "./tabulate.js";
import { tieBreakOrder } from "./ties.js";
import type { BallotGroup, Candidate, OvervoteRule } from "./types.js";

const [A, B, C, D] = [1, 2, 3, 4];
const abcd: Candidate[] = [
  { id: A, name: "A" },
  { id: B, name: "B" },
  { id: C, name: "C" },
  { id: D, name: "D" },
];
const g = (count: number, ...ranks: (number | number[])[]): BallotGroup => ({ ranks: ranks.map((r) => (Array.isArray(r) ? r : [r])), count });

describe("irv", () => {
  it("when a candidate has a majority of first preferences, then they win in round 1", () => {
    const r = tabulate(abcd, [g(6, A, B), g(3, B), g(2, C, B)], { method: "irv" });
    expect(r.rounds).toHaveLength(1);
    expect(r.rounds[0].elected).toEqual([A]);
    expect(r.winners).toEqual([A]);
  });

  it("moves an eliminated candidate's ballots to their next continuing choice, exhausting the rest", () => {
    const r = tabulate(abcd.slice(0, 3), [g(4, A), g(3, B, A), g(1, C, B), g(1, C)], { method: "irv" });
    expect(r.rounds[0].eliminated).toEqual([C]);
    expect(r.rounds[0].transfers).toEqual([{ from: C, kind: "elimination", to: [{ candidateId: B, votes: "1" }], exhausted: "1" }]);
    // Round 2: A 4, B 4 tie; A led round 1, so B goes.
    expect(r.rounds[1].counts).toEqual([
      { candidateId: A, votes: "4" },
      { candidateId: B, votes: "4" },
    ]);
    expect(r.rounds[1].exhausted).toBe("1");
    expect(r.ties).toEqual([expect.objectContaining({ round: 2, among: [A, B], chosen: B, rule: "previous-rounds", decides: "elimination" })]);
    expect(r.rounds[2].counts).toEqual([{ candidateId: A, votes: "7" }]);
    expect(r.winners).toEqual([A]);
    expect(r.candidates.map((c) => [c.id, c.position])).toEqual([
      [A, 1],
      [B, 2],
      [C, 3],
    ]);
  });

  it("needs a majority of the continuing votes, not of all ballots", () => {
    // Round 2: A 4, B 3, 2 exhausted: 4 > 7/2 elects A.
    const r = tabulate(abcd.slice(0, 3), [g(4, A), g(3, B), g(2, C)], { method: "irv" });
    expect(r.rounds).toHaveLength(2);
    expect(r.rounds[1]).toMatchObject({ exhausted: "2", elected: [A] });
  });

  describe("batch elimination", () => {
    const ballots = [g(8, A), g(6, B), g(2, C, B), g(1, D, C)];

    it("when on, eliminates together every lowest group that cannot catch the next candidate", () => {
      // 1 < 2 and 1 + 2 < 6, but 1 + 2 + 6 >= 8: C and D go together.
      const r = tabulate(abcd, ballots, { method: "irv", batchElimination: true });
      expect(r.rounds[0].eliminated).toEqual([D, C]);
      expect(r.rounds[0].transfers.map((t) => t.from)).toEqual([D, C]);
      expect(r.rounds[1].counts).toEqual([
        { candidateId: A, votes: "8" },
        { candidateId: B, votes: "8" },
      ]);
      // D's ballot skips C, who goes in the same batch, and is exhausted.
      expect(r.rounds[0].transfers[0]).toMatchObject({ from: D, exhausted: "1", to: [] });
    });

    it("when off, eliminates one candidate per round", () => {
      const r = tabulate(abcd, ballots, { method: "irv" });
      expect(r.rounds[0].eliminated).toEqual([D]);
      expect(r.rounds[1].eliminated).toEqual([C]);
      expect(r.rounds[1].counts).toContainEqual({ candidateId: C, votes: "3" });
    });
  });

  describe("overvotes", () => {
    // After C is eliminated, the second ballot reaches {B, C}: only B is still continuing.
    const ballots = [g(4, A), g(3, B), g(1, C, [B, C], A), g(1, C), g(2, [A, B], C)];
    const run = (overvote: OvervoteRule) => tabulate(abcd.slice(0, 3), ballots, { method: "irv", overvote });

    it('"exhaust": a ballot that reaches an overvote is exhausted, from the first round on', () => {
      const r = run("exhaust");
      expect(r.rounds[0].exhausted).toBe("2");
      expect(r.validBallots).toBe(11);
      expect(r.rounds[0].transfers[0]).toMatchObject({ from: C, to: [], exhausted: "2" });
    });

    it('"skip": the overvoted rank is passed over', () => {
      const r = run("skip");
      expect(r.rounds[0].counts).toContainEqual({ candidateId: C, votes: "4" });
      expect(r.rounds[0].exhausted).toBe("0");
    });

    it('"exhaust-if-continuing": exhausts only when two or more are continuing, else counts for the one', () => {
      const r = run("exhaust-if-continuing");
      expect(r.rounds[0].exhausted).toBe("2");
      expect(r.rounds[0].transfers[0]).toMatchObject({ from: C, to: [{ candidateId: B, votes: "1" }], exhausted: "1" });
    });
  });

  it("when tied in every round, then a lot seeded by tieBreakSeed decides and is reported", () => {
    const seed = "5eed";
    const r = tabulate(abcd.slice(0, 3), [g(2, A), g(2, B), g(3, C)], { method: "irv", tieBreakSeed: seed });
    const lot = tieBreakOrder(seed, [A, B]);
    expect(r.ties).toHaveLength(1);
    expect(r.ties[0]).toMatchObject({ round: 1, among: [A, B], chosen: lot[0].id, rule: "lot", decides: "elimination" });
    expect(r.ties[0].detail).toContain(lot[0].hash);
    expect(r.rounds[0].eliminated).toEqual([lot[0].id]);
  });

  it("counts blank ballots in ballots but not in valid ballots", () => {
    const r = tabulate(abcd, [g(3, A), { ranks: [], count: 2 }, { ranks: [[99]], count: 1 }], { method: "irv" });
    expect(r.ballots).toBe(6);
    expect(r.validBallots).toBe(3);
    expect(r.notes.join(" ")).toContain("3 blank ballot(s)");
  });

  it("refuses more than one seat", () => {
    expect(() => tabulate(abcd, [], { method: "irv", seats: 2 })).toThrow(TallyInputError);
  });
});
