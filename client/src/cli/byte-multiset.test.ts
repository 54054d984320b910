import { describe, expect, it } from "vitest";
import { ByteMultiset } from "./byte-multiset.js";

describe("ByteMultiset", () => {
  it("when many keys are added, some often and some of equal hashes' length, then it counts as a Map of their text does, in the order first added", () => {
    const m = new ByteMultiset();
    const reference = new Map<string, number>();
    let x = 1;
    const at = Buffer.alloc(64);
    for (let i = 0; i < 50_000; i++) {
      x = (x * 48271) % 2147483647;
      // Keys of 0 to 12 bytes inside a larger buffer, at an offset.
      const len = x % 13;
      for (let k = 0; k < len; k++) at[5 + k] = (x >> k) % 7;
      m.add(at, 5, 5 + len);
      const key = at.subarray(5, 5 + len).toString("hex");
      reference.set(key, (reference.get(key) ?? 0) + 1);
    }
    expect(m.size).toBe(reference.size);
    expect([...m.entries()].map(([k, n]) => [Buffer.from(k).toString("hex"), n])).toEqual([...reference]);
  });
});
