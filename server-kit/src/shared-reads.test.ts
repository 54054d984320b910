import { describe, expect, it } from "vitest";
import { sharedReads } from "./shared-reads.js";

/** A read whose answers the test releases by hand, recording when each began. */
function manualRead() {
  const reads: { key: string; value: number; release: () => void; fail: (e: Error) => void }[] = [];
  let counter = 0;
  const read = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const value = ++counter; // the state of the store when this read began
      reads.push({ key, value, release: () => resolve(value), fail: reject });
    });
  return { read, reads, bump: () => counter++ };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("sharedReads", () => {
  it("when a hundred callers ask at once, then at most one read runs and one more is queued, and each gets a read begun after it asked", async () => {
    const m = manualRead();
    const get = sharedReads(m.read);
    const first = get("e1");
    await tick();
    expect(m.reads).toHaveLength(1);
    const later = Array.from({ length: 100 }, () => get("e1"));
    await tick();
    expect(m.reads).toHaveLength(1); // the flood waits for the running read to end
    m.reads[0].release();
    await expect(first).resolves.toBe(1);
    await tick();
    expect(m.reads).toHaveLength(2); // one read for all hundred, begun after they asked
    m.reads[1].release();
    expect(new Set(await Promise.all(later))).toEqual(new Set([2]));
    // Idle again: the next caller starts its own read at once.
    const again = get("e1");
    await tick();
    expect(m.reads).toHaveLength(3);
    m.reads[2].release();
    await expect(again).resolves.toBe(3);
  });

  it("keys do not wait for each other, and a failed read fails only its own callers", async () => {
    const m = manualRead();
    const get = sharedReads(m.read);
    const a = get("e1");
    const b = get("e2");
    await tick();
    expect(m.reads.map((r) => r.key)).toEqual(["e1", "e2"]);
    const a2 = get("e1");
    m.reads[0].fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await tick();
    m.reads[2].release();
    await expect(a2).resolves.toBe(3);
    m.reads[1].release();
    await expect(b).resolves.toBe(2);
  });

  it("when a read throws synchronously, then its callers get the error and the key is free again", async () => {
    let fail = true;
    const get = sharedReads((k: string): Promise<number> => {
      if (fail) throw new Error(`no ${k}`);
      return Promise.resolve(7);
    });
    await expect(get("x")).rejects.toThrow("no x");
    fail = false;
    await expect(get("x")).resolves.toBe(7);
  });
});
