import { describe, expect, it } from "vitest";
import { tabulate } from "./tabulate.js";
import type { BallotGroup, Candidate, TallyOptions } from "./types.js";

const abcd: Candidate[] = ["A", "B", "C", "D"].map((name, i) => ({ id: i + 1, name }));
const blank: BallotGroup = { ranks: [], count: 3 };

const methods: [string, TallyOptions][] = [
  ["plurality", { method: "plurality" }],
  ["plurality, 2 seats", { method: "plurality", seats: 2 }],
  ["approval", { method: "approval", seats: 2 }],
  ["irv", { method: "irv" }],
  ["stv (scottish)", { method: "stv", seats: 2, stvVariant: "scottish" }],
  ["stv (wigm)", { method: "stv", seats: 2, stvVariant: "wigm" }],
  ["stv (meek)", { method: "stv", seats: 2, stvVariant: "meek" }],
  ["schulze", { method: "schulze" }],
];

for (const [name, options] of methods) {
  describe(`${name} with no ballot counted`, () => {
    for (const [what, ballots] of [
      ["no ballots at all", []],
      ["only blank ballots", [blank]],
    ] as [string, BallotGroup[]][]) {
      it(`when there are ${what}, then no one is elected and no lot is drawn`, () => {
        const r = tabulate(abcd, ballots, { ...options, tieBreakSeed: "ab" });
        expect(r.winners).toEqual([]);
        expect(r.candidates.filter((c) => c.elected)).toEqual([]);
        expect(r.ties).toEqual([]);
        for (const round of r.rounds) expect(round.elected).toEqual([]);
        expect(r.candidates.map((c) => c.position)).toEqual([1, 1, 1, 1]);
        expect(r.notes.join("\n")).toMatch(/no ballot was counted/i);
      });
    }
  });
}
