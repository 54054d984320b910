import { describe, expect, it } from "vitest";
import { canonicalRenames } from "./migrations.js";

describe("canonical usernames migration", () => {
  it("when existing names differ only in case, then the oldest account keeps the canonical name and the others are parked outside the pattern", () => {
    const renames = canonicalRenames([
      { id: 7, username: "dave" },
      { id: 3, username: "Dave" },
      { id: 9, username: "DAVE" },
      { id: 4, username: "Erin" },
      { id: 5, username: "frank" },
    ]);
    expect(renames).toEqual([
      { id: 7, username: "dave#7" },
      { id: 3, username: "dave" },
      { id: 9, username: "dave#9" },
      { id: 4, username: "erin" },
    ]);
  });

  it("when a parked name would pass 64 characters, then its tail makes room for the id", () => {
    const long = "a".repeat(64);
    expect(canonicalRenames([{ id: 1, username: long }, { id: 12345, username: long.toUpperCase() }])).toEqual([{ id: 12345, username: `${"a".repeat(58)}#12345` }]);
  });
});
