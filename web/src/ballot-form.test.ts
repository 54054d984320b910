import { describe, expect, it } from "vitest";
import { ballotChoices, ballotKind } from "./ballot-form.js";
import { FormError } from "./errors.js";

const candidates = [
  { id: 4, name: "Ada" },
  { id: 7, name: "Brook" },
  { id: 9, name: "Cyd" },
];

describe("ballot forms", () => {
  it("when a method is given, then the form fits it: one choice, a set, or a ranking", () => {
    expect(ballotKind("plurality")).toBe("one");
    expect(ballotKind("approval")).toBe("set");
    for (const m of ["irv", "stv", "schulze"]) expect(ballotKind(m)).toBe("ranking");
  });

  it("when ranks are posted, then the ballot lists the candidates in rank order, unranked ones left out", () => {
    expect(ballotChoices("ranking", { rank_4: "2", rank_7: "", rank_9: "1" }, candidates)).toEqual([9, 4]);
  });

  it("when two candidates share a rank, or a rank is out of range, then the form is refused with the reason", () => {
    expect(() => ballotChoices("ranking", { rank_4: "1", rank_9: "1" }, candidates)).toThrow(/Two candidates have rank 1/);
    expect(() => ballotChoices("ranking", { rank_4: "4" }, candidates)).toThrow(FormError);
    expect(() => ballotChoices("ranking", {}, candidates)).toThrow(/Rank at least one/);
  });

  it("when a choice names a candidate the election lacks, or plurality gets two, then the form is refused", () => {
    expect(() => ballotChoices("one", { choice: "5" }, candidates)).toThrow(/does not have/);
    expect(() => ballotChoices("one", { choice: ["4", "7"] }, candidates)).toThrow(/only one/);
    expect(ballotChoices("set", { choice: ["4", "9"] }, candidates)).toEqual([4, 9]);
    expect(() => ballotChoices("set", {}, candidates)).toThrow(/at least one/);
  });
});
