// The multiset keeps rankings packed as the methods read them; what it holds must be exactly
// what was added.
import { describe, expect, it } from "vitest";
import { TallyInputError } from "./errors.js";
import { RankingMultiset, TIED } from "./multiset.js";

describe("RankingMultiset", () => {
  it("packs each distinct ranking once, code - 1 per mark, TIED on a mark whose rank goes on, blank ones apart", () => {
    const ms = new RankingMultiset();
    ms.add([[2], [3, 1]], 2);
    ms.add([], 4);
    ms.add([[2], [1, 3, 1]], 1); // the same ranking: order and repeats within a rank do not matter
    ms.add([[3], [], [2]], 5); // an empty rank is passed over
    const p = ms.packed();
    expect(p.rankings).toBe(2);
    expect([...p.start]).toEqual([0, 3, 5]);
    expect([...p.marks]).toEqual([1, 0 | TIED, 2, 2, 1]);
    expect([...p.count]).toEqual([3, 5]);
    expect([ms.total, ms.blank, ms.size, ms.units, ms.largestCode]).toEqual([12, 4, 3, 5, 3]);
    expect(ms.groups()).toEqual([
      { ranks: [[2], [1, 3]], count: 3 },
      { ranks: [], count: 4 },
      { ranks: [[3], [2]], count: 5 },
    ]);
  });

  it("after an add that throws, the next add counts only its own marks", () => {
    const ms = new RankingMultiset();
    expect(() => ms.add([[1], [70_000]], 1)).toThrow(TallyInputError);
    ms.add([[2]], 1);
    expect(ms.groups()).toEqual([{ ranks: [[2]], count: 1 }]);
    expect(ms.total).toBe(1);
  });

  it("holds many distinct rankings through its growth", () => {
    const ms = new RankingMultiset();
    for (let k = 0; k < 3; k++) for (let i = 1; i <= 5000; i++) ms.add([[i % 7 + 1], [(i % 50) + 8], [i + 100]], 1);
    expect(ms.size).toBe(5000);
    expect(ms.total).toBe(15000);
    const groups = ms.groups();
    expect(groups[4999]).toEqual({ ranks: [[(5000 % 7) + 1], [(5000 % 50) + 8], [5100]], count: 3 });
    expect(groups.every((g) => g.count === 3)).toBe(true);
  });
});
