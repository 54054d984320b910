import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TallyInputError } from "./ballots.js";
import { breakTie, tieBreakOrder, type TieContext } from "./ties.js";

/** The documented rule, written out independently. */
const hash = (seedHex: string, id: number) => createHash("sha256").update(Buffer.from(seedHex, "hex")).update(`:${id}`).digest("hex");

describe("the lot", () => {
  it("orders candidates by SHA-256(seed bytes || ':' || id), lowest first", () => {
    for (const seed of ["", "00", "ab01", "DEADBEEF"]) {
      const ids = [1, 2, 3, 10, 42];
      const expected = [...ids].sort((x, y) => (hash(seed, x) < hash(seed, y) ? -1 : 1));
      expect(tieBreakOrder(seed, ids).map((o) => o.id)).toEqual(expected);
      expect(tieBreakOrder(seed, ids)[0].hash).toBe(hash(seed, expected[0]));
    }
  });

  it("hashes the seed as bytes, not as text", () => {
    expect(tieBreakOrder("41", [7])[0].hash).toBe(createHash("sha256").update("A:7").digest("hex"));
    expect(tieBreakOrder("", [7])[0].hash).toBe(createHash("sha256").update(":7").digest("hex"));
  });

  it("rejects a seed that is not hex bytes", () => {
    expect(() => tieBreakOrder("abc", [1])).toThrow(TallyInputError);
    expect(() => tieBreakOrder("zz", [1])).toThrow(TallyInputError);
  });
});

describe("breaking ties by earlier rounds", () => {
  const ctx = (): TieContext => ({ seedHex: "", ids: [11, 12, 13], names: ["X", "Y", "Z"], ties: [] });
  const ask = (c: TieContext, history: (number | undefined)[][], pick: "lowest" | "highest" = "lowest") =>
    breakTie(c, { tied: [0, 1, 2], history, compare: (a, b) => a - b, format: String, pick, decides: "elimination", round: history.length + 1, now: "5", outcome: "is eliminated" });

  it("uses the most recent earlier round where the counts differ", () => {
    const c = ctx();
    // Round 2 says Y is lowest; round 1 would have said X.
    expect(ask(c, [[1, 3, 3], [4, 2, 4]])).toBe(1);
    expect(c.ties[0]).toMatchObject({ among: [11, 12, 13], chosen: 12, rule: "previous-rounds", round: 3 });
  });

  it("goes further back while several remain level", () => {
    const c = ctx();
    // Round 2: X and Y both lowest; round 1 separates them.
    expect(ask(c, [[3, 1, 0], [2, 2, 4]])).toBe(1);
    expect(c.ties[0].detail).toContain("round 2 had");
    expect(c.ties[0].detail).toContain("round 1 had");
  });

  it("picks the highest when choosing whom to transfer or elect first", () => {
    expect(ask(ctx(), [[1, 9, 3]], "highest")).toBe(1);
  });

  it("draws a lot among those still level after every earlier round", () => {
    const c = ctx();
    const chosen = ask(c, [[5, 5, 9]]);
    const expected = tieBreakOrder("", [11, 12])[0].id;
    expect(c.ids[chosen]).toBe(expected);
    expect(c.ties[0]).toMatchObject({ rule: "lot", chosen: expected, among: [11, 12, 13] });
  });
});
