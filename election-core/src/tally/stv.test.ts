import { describe, expect, it } from "vitest";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate, StvVariant } from "./types.js";

const [A, B, C, D] = [1, 2, 3, 4];
const abcd: Candidate[] = ["A", "B", "C", "D"].map((name, i) => ({ id: i + 1, name }));
const g = (count: number, ...order: number[]): BallotGroup => ({ ranks: order.map((c) => [c]), count });
const stv = (ballots: BallotGroup[], seats: number, stvVariant: StvVariant, batchElimination = false) =>
  tabulate(abcd, ballots, { method: "stv", seats, stvVariant, batchElimination });

describe("stv, Scottish rules", () => {
  it("transfers a surplus at a value truncated to 5 decimals and reports what truncation loses", () => {
    // Quota floor(5 / 3) + 1 = 2. A's surplus of 1 moves at 1/3 -> 0.33333 per paper.
    const r = stv([g(3, A, B), g(1, C), g(1, D)], 2, "scottish");
    expect(r.rounds[0]).toMatchObject({ quota: "2.00000", elected: [A] });
    expect(r.rounds[0].transfers).toEqual([{ from: A, kind: "surplus", to: [{ candidateId: B, votes: "0.99999" }], exhausted: "0.00000" }]);
    expect(r.rounds[1].counts).toEqual([
      { candidateId: A, votes: "2.00000" },
      { candidateId: B, votes: "0.99999" },
      { candidateId: C, votes: "1.00000" },
      { candidateId: D, votes: "1.00000" },
    ]);
    expect(r.rounds[1].eliminated).toEqual([B]);
    expect(r.rounds[2].exhausted).toBe("0.99999");
    expect(r.notes).toContain("Value lost to rounding (in no count and not non-transferable): 0.00001.");
    // C and D are level at every stage: a lot excludes one of them.
    expect(r.ties).toEqual([expect.objectContaining({ round: 3, among: [C, D], rule: "lot", decides: "elimination" })]);
    expect(r.winners).toHaveLength(2);
  });

  it("breaks a tie by going back to the latest earlier stage where the counts differ", () => {
    // Quota floor(17 / 3) + 1 = 6. A's surplus 4 at 0.4 gives B 4; C goes; B and D tie at 4 in
    // stages 2 and 3, but in stage 1 B had 0 and D 4: B is excluded.
    const r = stv([g(10, A, B), g(3, C), g(4, D)], 2, "scottish");
    expect(r.rounds[1].eliminated).toEqual([C]);
    expect(r.ties).toEqual([expect.objectContaining({ round: 3, among: [B, D], chosen: B, rule: "previous-rounds" })]);
    expect(r.ties[0].detail).toContain("round 1 had B (2) 0.00000, D (4) 4.00000");
    expect(r.winners).toEqual([A, D]);
  });

  it("transfers the largest surplus first", () => {
    // Quota floor(20 / 3) + 1 = 7: A 9 and B 8 both elected at stage 1; seats are filled.
    const r = stv([g(9, A, C), g(8, B, C), g(3, C)], 2, "scottish");
    expect(r.rounds[0].elected).toEqual([A, B]);
    expect(r.rounds).toHaveLength(1);
    const three = tabulate([...abcd, { id: 5, name: "E" }], [g(9, A, C), g(8, B, D), g(3, C), g(3, D)], { method: "stv", seats: 3 });
    expect(three.rounds[0].transfers[0]).toMatchObject({ from: A, kind: "surplus" });
    expect(three.rounds[1].transfers[0]).toMatchObject({ from: B, kind: "surplus" });
  });

  it("elects every continuing candidate when they are no more than the seats left", () => {
    const r = tabulate(abcd.slice(0, 3), [g(1, A), g(1, B)], { method: "stv", seats: 3 });
    expect(r.rounds).toHaveLength(1);
    expect(r.rounds[0].elected).toEqual([A, B, C]);
    expect(r.ties).toEqual([]);
  });

  it("with batch exclusion, excludes together the candidates who cannot catch up", () => {
    // Quota floor(19 / 3) + 1 = 7; no one has it. 1 + 2 < 5 but 1 + 2 + 5 >= 6: C and D go together.
    const five = [...abcd, { id: 5, name: "E" }];
    const ballots = [g(6, A), g(5, B), g(2, C, A), g(1, D, B), g(5, 5)];
    const on = tabulate(five, ballots, { method: "stv", seats: 2, batchElimination: true });
    expect(on.rounds[0].eliminated).toEqual([D, C]);
    const off = tabulate(five, ballots, { method: "stv", seats: 2 });
    expect(off.rounds[0].eliminated).toEqual([D]);
  });
});

describe("stv, WIGM", () => {
  it("uses the exact Droop quota and exact fractions", () => {
    const r = stv([g(3, A, B), g(1, C), g(1, D)], 2, "wigm");
    expect(r.rounds[0].quota).toBe("1.666666666");
    // Surplus 4/3 moves at 4/9 per paper: B gets exactly 4/3.
    expect(r.rounds[0].transfers[0].to).toEqual([{ candidateId: B, votes: "1.333333333" }]);
    expect(r.rounds[1].counts.find((c) => c.candidateId === B)!.votes).toBe("1.333333333");
    expect(r.notes.join(" ")).not.toContain("lost to rounding");
    expect(r.winners).toEqual([A, B]);
  });
});

describe("stv, Meek", () => {
  it("keeps an elected candidate at the quota by its keep factor and passes on the rest", () => {
    const r = stv([g(6, A, B), g(2, B), g(3, C), g(1, D)], 2, "meek");
    expect(r.winners).toEqual([A, B]);
    // Round 2 iterates A's keep factor down to about 2/3: A keeps the quota, B gets the rest.
    const second = r.rounds[1];
    const a = Number(second.counts.find((c) => c.candidateId === A)!.votes);
    expect(Math.abs(a - Number(second.quota))).toBeLessThan(0.000001);
    expect(second.counts.find((c) => c.candidateId === B)!.votes).toBe("3.999999998");
    expect(r.notes.join(" ")).toContain("fixed-point with 9 decimal places");
  });

  it("recomputes the quota from the votes still held, so exhausted votes lower it", () => {
    const r = stv([g(6, A), g(3, B), g(2, C), g(1, D, A)], 2, "meek");
    const quotas = r.rounds.map((x) => Number(x.quota));
    expect(Math.min(...quotas)).toBeLessThan(quotas[0]);
  });
});
