import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { repeatWithoutOverlap } from "./repeat.js";

describe("repeatWithoutOverlap", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("never starts a run while the last one is still going, however long it takes", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const slow = async () => {
      runs++;
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 3_500)); // three and a half periods
      running--;
    };
    const r = repeatWithoutOverlap(slow, 1_000);
    await vi.advanceTimersByTimeAsync(20_000);
    r.stop();
    expect(most).toBe(1);
    // One run per 4.5 s (3.5 s of work, then 1 s of rest): setInterval would have started 20.
    expect(runs).toBe(5);
  });

  it("goes on after a run that failed, and stops when asked", async () => {
    let runs = 0;
    const r = repeatWithoutOverlap(async () => {
      runs++;
      throw new Error("the database is down");
    }, 100);
    await vi.advanceTimersByTimeAsync(350);
    expect(runs).toBe(3);
    r.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(3);
  });

  it("with a busy share, waits longer after a long run, so slow work takes no more than that share of the time", async () => {
    const starts: number[] = [];
    let runMs = 40;
    const r = repeatWithoutOverlap(
      async () => {
        starts.push(Date.now());
        await new Promise((res) => setTimeout(res, runMs));
      },
      1_000,
      { busyShare: 0.05 },
    );
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(1_000 + 40 + 1_000 + 1); // two short runs: the period wins (40 ms × 19 < 1 s)
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_040]);
    runMs = 2_000; // the work grew: next wait is 2 s × 19 = 38 s
    await vi.advanceTimersByTimeAsync(40 + 1_000 + 2_000 + 38_000);
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_040, 3_080, 43_080]);
    r.stop();
  });
});
