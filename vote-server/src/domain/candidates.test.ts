import { describe, expect, it } from "vitest";
import { candidateDirectory } from "./candidates.js";

describe("candidate directory cache", () => {
  it("caches a confirmed candidate for a minute and a refusal for two seconds", async () => {
    let t = 0;
    const calls: number[] = [];
    const roles = new Map<number, string>([[1, "candidate"]]);
    const dir = candidateDirectory({ roleOf: async (id) => (calls.push(id), roles.get(id)), listCandidates: async () => [] }, () => t);
    expect(await dir.isCandidate(1)).toBe(true);
    expect(await dir.isCandidate(2)).toBe(false);
    roles.set(2, "candidate");
    t = 1_000;
    expect(await dir.isCandidate(1)).toBe(true);
    expect(await dir.isCandidate(2)).toBe(false);
    expect(calls).toEqual([1, 2]);
    t = 2_500;
    expect(await dir.isCandidate(2)).toBe(true);
    t = 61_000;
    await dir.isCandidate(1);
    expect(calls).toEqual([1, 2, 2, 1]);
  });

  it("reads the list afresh every time, so a new candidate shows at once", async () => {
    const people = [{ id: 1, name: "a" }];
    const dir = candidateDirectory({ roleOf: async () => undefined, listCandidates: async () => [...people] });
    expect(await dir.list()).toEqual([{ id: 1, name: "a" }]);
    people.push({ id: 2, name: "b" });
    expect(await dir.list()).toEqual([{ id: 1, name: "a" }, { id: 2, name: "b" }]);
  });
});
