import { describe, expect, it } from "vitest";
import { status as Status } from "@grpc/grpc-js";
import { retrier } from "./retry.js";

const fast = { attempts: 4, initialBackoffMs: 1, maxBackoffMs: 2 };
const failing = (codes: number[], value = "ok") => {
  let calls = 0;
  return {
    calls: () => calls,
    once: async () => {
      const code = codes[calls++];
      if (code === undefined) return value;
      throw Object.assign(new Error(Status[code]), { code, details: Status[code] });
    },
  };
};

describe("retrier", () => {
  it("when a call answers UNAVAILABLE twice and then succeeds, then it returns the answer and counts one retried call with two retries", async () => {
    const r = retrier(fast);
    const f = failing([Status.UNAVAILABLE, Status.UNAVAILABLE]);
    await expect(r.run(f.once, Date.now() + 10_000)).resolves.toBe("ok");
    expect(f.calls()).toBe(3);
    expect(r.stats()).toEqual({ calls: 1, retriedCalls: 1, retries: 2 });
  });

  it("when a call keeps answering UNAVAILABLE, then it gives up after the attempts with that error", async () => {
    const r = retrier(fast);
    const f = failing(Array(10).fill(Status.UNAVAILABLE));
    await expect(r.run(f.once, Date.now() + 10_000)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(f.calls()).toBe(4);
  });

  it("when a call fails with anything but UNAVAILABLE, then it is not tried again", async () => {
    for (const code of [Status.INVALID_ARGUMENT, Status.ALREADY_EXISTS, Status.DEADLINE_EXCEEDED, Status.INTERNAL]) {
      const r = retrier(fast);
      const f = failing([code]);
      await expect(r.run(f.once, Date.now() + 10_000)).rejects.toMatchObject({ code });
      expect(f.calls()).toBe(1);
      expect(r.stats().retries).toBe(0);
    }
  });

  it("when the next wait would pass the deadline, then the UNAVAILABLE is returned at once", async () => {
    const r = retrier({ attempts: 5, initialBackoffMs: 10_000, maxBackoffMs: 10_000 });
    const f = failing([Status.UNAVAILABLE]);
    await expect(r.run(f.once, Date.now() + 1_000)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(f.calls()).toBe(1);
  });

  it("when the caller has aborted, then an UNAVAILABLE is not retried", async () => {
    const r = retrier(fast);
    const f = failing([Status.UNAVAILABLE]);
    await expect(r.run(f.once, Date.now() + 10_000, AbortSignal.abort())).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(f.calls()).toBe(1);
  });
});
