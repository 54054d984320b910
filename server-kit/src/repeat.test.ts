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
});
