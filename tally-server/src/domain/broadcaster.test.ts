import { describe, expect, it } from "vitest";
import { broadcaster } from "./broadcaster.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("result broadcaster", () => {
  it("coalesces a burst into one update and never misses a change made while computing", async () => {
    let version = 0;
    let computes = 0;
    const b = broadcaster(
      async () => {
        computes++;
        const v = version;
        await tick(30);
        return v;
      },
      10,
      () => undefined,
    );
    const seen: number[] = [];
    b.subscribe(1, (v) => seen.push(v));
    for (let i = 0; i < 50; i++) {
      version++;
      b.changed(1);
    }
    await tick(20); // the compute of version 50 is running now
    version++;
    b.changed(1);
    await tick(150);
    expect(seen.at(-1)).toBe(51);
    expect(computes).toBe(2);
  });

  it("when nothing was computed for an interval, then a change goes out at once, and the next one at the interval's end", async () => {
    const at: number[] = [];
    const started = performance.now();
    const b = broadcaster(async () => at.push(performance.now() - started), 1_000, () => undefined);
    b.subscribe(1, () => undefined);
    b.changed(1);
    await tick(300);
    expect(at.length).toBe(1);
    b.changed(1);
    await tick(300);
    expect(at.length).toBe(1);
    await tick(1_200);
    expect(at.length).toBe(2);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(990);
  });

  it("sends nothing for elections nobody watches", async () => {
    let computes = 0;
    const b = broadcaster(async () => ++computes, 5, () => undefined);
    b.changed(7);
    await tick(20);
    expect(computes).toBe(0);
  });
});
