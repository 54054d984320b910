import { describe, expect, it } from "vitest";
import { prepareBallots } from "./ballots.js";
import type { BallotGroup } from "./types.js";

const group = (count: number, ...ranks: number[][]): BallotGroup => ({ ranks, count });

describe("prepareBallots", () => {
  it("when called again with other candidates, then no index of an earlier call's candidates is left over (also after a call that failed)", () => {
    const first = prepareBallots([{ id: 7, name: "a" }, { id: 9, name: "b" }], [group(2, [9], [7])]);
    expect([...first.marks]).toEqual([1, 0]);
    // Throws while reading the ballots, with candidate 11 entered.
    const failing = (function* () {
      yield group(1, [11]);
      throw new Error("bad input");
    })();
    expect(() => prepareBallots([{ id: 11, name: "c" }], failing)).toThrow("bad input");
    // 7, 9 and 11 are no candidates now: their marks are unlisted, not indices of the earlier calls.
    const second = prepareBallots([{ id: 8, name: "d" }], [group(3, [7], [9], [11], [8])]);
    expect([...second.marks]).toEqual([0]);
    expect(second.unlisted).toBe(3);
    expect(second.count[0]).toBe(3);
  });
});
