import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@voting/server-kit";
import { callRateLimiter } from "./call-rate.js";

const anon = (ip: string) => ({ principal: undefined, peer: `ipv4:${ip}` });

describe("call rate limiter", () => {
  it("when a caller uses up its burst, then further calls are RESOURCE_EXHAUSTED until tokens refill at the rate", () => {
    let t = 0;
    const limiter = callRateLimiter({ perSecond: 2, burst: 3 }, () => t);
    for (let i = 0; i < 3; i++) limiter.take(anon("10.0.0.1"));
    expect(() => limiter.take(anon("10.0.0.1"))).toThrow(ResourceExhaustedError);
    // Another caller has its own bucket.
    limiter.take(anon("10.0.0.2"));
    t = 499;
    expect(() => limiter.take(anon("10.0.0.1"))).toThrow(/retry in [12] ms/);
    t = 500;
    limiter.take(anon("10.0.0.1"));
    expect(() => limiter.take(anon("10.0.0.1"))).toThrow(ResourceExhaustedError);
  });

  it("when a service account calls, then it is not limited", () => {
    const limiter = callRateLimiter({ perSecond: 1, burst: 1 }, () => 0);
    const svc = { principal: { userId: 1, username: "svc-tally", role: "service" as const }, peer: "ipv4:10.0.0.3" };
    for (let i = 0; i < 10; i++) limiter.take(svc as never);
    expect(limiter.size()).toBe(0);
  });
});
