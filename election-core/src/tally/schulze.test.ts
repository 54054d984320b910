import { describe, expect, it } from "vitest";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate } from "./types.js";

/** "ACBED" -> ranked ballot over ids A=1 .. E=5. */
const ranked = (order: string, count: number): BallotGroup => ({ ranks: [...order].map((ch) => [ch.charCodeAt(0) - 64]), count });
const letters: Candidate[] = ["A", "B", "C", "D", "E"].map((name, i) => ({ id: i + 1, name }));

describe("Schulze, Wikipedia's 45-voter example", () => {
  // https://en.wikipedia.org/wiki/Schulze_method#Example
  const ballots = [
    ranked("ACBED", 5),
    ranked("ADECB", 5),
    ranked("BEDAC", 8),
    ranked("CABED", 3),
    ranked("CAEBD", 7),
    ranked("CBADE", 2),
    ranked("DCEBA", 7),
    ranked("EBADC", 8),
  ];
  const r = tabulate(letters, ballots, { method: "schulze" });

  it("has the published pairwise preferences d[*,*]", () => {
    expect(r.pairwise!.candidates).toEqual([1, 2, 3, 4, 5]);
    expect(r.pairwise!.matrix).toEqual([
      [0, 20, 26, 30, 22],
      [25, 0, 16, 33, 18],
      [19, 29, 0, 17, 24],
      [15, 12, 28, 0, 14],
      [23, 27, 21, 31, 0],
    ]);
  });

  it("has the published strongest paths p[*,*]", () => {
    expect(r.pairwise!.strongest).toEqual([
      [0, 28, 28, 30, 24],
      [25, 0, 28, 33, 24],
      [25, 29, 0, 29, 24],
      [25, 28, 28, 0, 24],
      [25, 28, 28, 31, 0],
    ]);
  });

  it("elects E and ranks E > A > C > B > D", () => {
    expect(r.winners).toEqual([5]);
    expect(r.ranking).toEqual([[5], [1], [3], [2], [4]]);
    expect(r.candidates.map((c) => [c.name, c.position])).toEqual([
      ["E", 1],
      ["A", 2],
      ["C", 3],
      ["B", 4],
      ["D", 5],
    ]);
    expect(r.rounds).toEqual([]);
    expect(r.ties).toEqual([]);
  });

  it("with three seats elects the top three of the ranking", () => {
    expect(tabulate(letters, ballots, { method: "schulze", seats: 3 }).winners).toEqual([5, 1, 3]);
  });

  it("reports first preferences as the candidates' votes", () => {
    expect(Object.fromEntries(r.candidates.map((c) => [c.name, c.votes]))).toEqual({ A: "10", B: "8", C: "12", D: "7", E: "8" });
  });
});

describe("Schulze on ballots with ties and omissions", () => {
  const abc: Candidate[] = letters.slice(0, 3);

  it("ranks candidates a ballot leaves out below those it names, and equal ranks as ties", () => {
    const r = tabulate(abc, [{ ranks: [[1], [2, 3]], count: 2 }, { ranks: [[3]], count: 1 }], { method: "schulze" });
    expect(r.pairwise!.matrix).toEqual([
      [0, 2, 2],
      [0, 0, 0],
      [1, 1, 0],
    ]);
    expect(r.ranking).toEqual([[1], [3], [2]]);
  });

  it("keeps tied candidates in one place of the ranking and elects one of them by lot", () => {
    const r = tabulate(abc, [ranked("AB", 1), ranked("BA", 1), ranked("C", 0)], { method: "schulze", tieBreakSeed: "00" });
    expect(r.ranking).toEqual([[1, 2], [3]]);
    expect(r.ties).toHaveLength(1);
    expect(r.ties[0]).toMatchObject({ among: [1, 2], decides: "election", rule: "lot" });
    expect(r.winners).toEqual([r.ties[0].chosen]);
    expect(r.candidates.slice(0, 2).map((c) => c.position)).toEqual([1, 1]);
  });
});
