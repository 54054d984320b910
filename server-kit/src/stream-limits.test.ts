import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "./errors.js";
import { clientKey } from "./client-key.js";
import { streamCaller, streamLimiter } from "./stream-limits.js";
import type { CallContext } from "./handlers.js";

const call = (principal?: CallContext["principal"], peer = "ipv4:10.0.0.1") => {
  const controller = new AbortController();
  return { ctx: { principal, peer, signal: controller.signal } as CallContext, end: () => controller.abort() };
};

describe("stream limiter", () => {
  it("when a caller is at its limit, then RESOURCE_EXHAUSTED until one of its calls is over", async () => {
    const limiter = streamLimiter({ perCaller: 2, perServer: 10 });
    const run = limiter.guard(async () => undefined);
    const [a, b, c] = [call(), call(), call()];
    await run({}, a.ctx, async () => undefined);
    await run({}, b.ctx, async () => undefined);
    await expect(run({}, c.ctx, async () => undefined)).rejects.toBeInstanceOf(ResourceExhaustedError);
    // Another address, or a user from the same address, is another caller.
    await run({}, call(undefined, "ipv4:10.0.0.2").ctx, async () => undefined);
    await run({}, call({ userId: 7, role: "voter", username: "u" }).ctx, async () => undefined);
    a.end();
    a.end();
    await run({}, c.ctx, async () => undefined);
    expect(limiter.open()).toBe(4);
  });

  it("when the server is at its limit, then every caller is refused; service accounts are not counted", async () => {
    const limiter = streamLimiter({ perCaller: 5, perServer: 2 });
    const run = limiter.guard(async () => undefined);
    await run({}, call(undefined, "a").ctx, async () => undefined);
    await run({}, call(undefined, "b").ctx, async () => undefined);
    await expect(run({}, call(undefined, "c").ctx, async () => undefined)).rejects.toThrow(/server has too many open streams/);
    const svc = call({ userId: 1, role: "service", username: "svc-tally" });
    expect(streamCaller(svc.ctx)).toBeUndefined();
    await run({}, svc.ctx, async () => undefined);
    expect(limiter.open()).toBe(2);
  });

  it("when anonymous callers come from one IPv6 /64, then they count as one address", () => {
    expect(clientKey("127.0.0.1")).toBe("127.0.0.1");
    expect(clientKey("ipv4:10.1.2.3")).toBe("10.1.2.3");
    expect(clientKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("[2001:db8:1:2:bbbb:cccc:dddd:eeee]")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::5")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
  });
});
