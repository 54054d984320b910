// The "Tennessee capital" example (Wikipedia, e.g. "Instant-runoff voting", "Condorcet method"):
// each city's voters rank by distance. Plurality, IRV and Condorcet methods disagree.
import { describe, expect, it } from "vitest";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate } from "./types.js";

const MEMPHIS = 1;
const NASHVILLE = 2;
const CHATTANOOGA = 3;
const KNOXVILLE = 4;
const cities: Candidate[] = [
  { id: MEMPHIS, name: "Memphis" },
  { id: NASHVILLE, name: "Nashville" },
  { id: CHATTANOOGA, name: "Chattanooga" },
  { id: KNOXVILLE, name: "Knoxville" },
];
const group = (count: number, ...order: number[]): BallotGroup => ({ ranks: order.map((c) => [c]), count });
const ballots = [
  group(42, MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE),
  group(26, NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS),
  group(15, CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS),
  group(17, KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS),
];

describe("Tennessee capital", () => {
  it("plurality elects Memphis with 42%", () => {
    // A plurality ballot is its first rank.
    const r = tabulate(cities, ballots.map((b) => ({ ranks: [b.ranks[0]], count: b.count })), { method: "plurality" });
    expect(r.winners).toEqual([MEMPHIS]);
    expect(r.candidates[0]).toMatchObject({ id: MEMPHIS, votes: "42", percentage: 42, position: 1 });
  });

  it("IRV eliminates Chattanooga, then Nashville, and elects Knoxville", () => {
    const r = tabulate(cities, ballots, { method: "irv" });
    expect(r.rounds.map((x) => x.eliminated)).toEqual([[CHATTANOOGA], [NASHVILLE], []]);
    expect(r.rounds[1].counts).toEqual([
      { candidateId: MEMPHIS, votes: "42" },
      { candidateId: NASHVILLE, votes: "26" },
      { candidateId: KNOXVILLE, votes: "32" },
    ]);
    expect(r.rounds[2].counts).toEqual([
      { candidateId: MEMPHIS, votes: "42" },
      { candidateId: KNOXVILLE, votes: "58" },
    ]);
    expect(r.winners).toEqual([KNOXVILLE]);
  });

  it("Schulze elects Nashville, the Condorcet winner, and ranks Nashville > Chattanooga > Knoxville > Memphis", () => {
    const r = tabulate(cities, ballots, { method: "schulze" });
    expect(r.winners).toEqual([NASHVILLE]);
    expect(r.ranking).toEqual([[NASHVILLE], [CHATTANOOGA], [KNOXVILLE], [MEMPHIS]]);
    expect(r.pairwise!.matrix[1]).toEqual([58, 0, 68, 68]); // Nashville over each other city
  });

  it("STV with one seat agrees with IRV under every variant", () => {
    for (const stvVariant of ["scottish", "wigm", "meek"] as const) {
      expect(tabulate(cities, ballots, { method: "stv", stvVariant }).winners).toEqual([KNOXVILLE]);
    }
  });
});
