import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@voting/server-kit";
import { delayFor, loginLimits } from "./login-limits.js";

const settings = { maxFailuresPerUserAddress: 3, slowAfterFailuresPerUser: 5, maxDelayMs: 5_000, maxAttemptsPerPeer: 1_000, maxRegistersPerPeer: 1_000 };

function gate() {
  const slept: number[] = [];
  return { slept, g: loginLimits(settings, async (ms) => void slept.push(ms)) };
}

async function fail(g: ReturnType<typeof loginLimits>, user: string, peer: string) {
  await g.admit(user, peer);
  await g.failed(user, peer);
}

describe("login limits", () => {
  it("when the per-user ceiling is passed, then delays grow from 100 ms and stop at the maximum", () => {
    expect([4, 5, 6, 7, 10, 100, 1e6].map((f) => delayFor(f, settings))).toEqual([0, 100, 200, 400, 3_200, 5_000, 5_000]);
  });

  it("when one address fails too often for a user, then only that pair is refused", async () => {
    const { g } = gate();
    for (let i = 0; i < 3; i++) await fail(g, "dave", "ipv4:10.0.0.1");
    await expect(g.admit("dave", "ipv4:10.0.0.1")).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(g.admit("dave", "ipv4:10.0.0.2")).resolves.toBeUndefined();
    await expect(g.admit("erin", "ipv4:10.0.0.1")).resolves.toBeUndefined();
  });

  it("when many addresses fail for a user, then further attempts are delayed, except from an address that logged in as that user", async () => {
    const { g, slept } = gate();
    await g.admit("dave", "ipv4:10.9.9.9");
    await g.succeeded("dave", "ipv4:10.9.9.9");
    for (let a = 1; a <= 3; a++) for (let i = 0; i < 2; i++) await fail(g, "dave", `ipv4:10.0.0.${a}`);
    expect(slept).toEqual([100]);
    await g.admit("dave", "ipv4:10.0.0.4");
    expect(slept).toEqual([100, 200]);
    await g.admit("dave", "ipv4:10.9.9.9");
    expect(slept).toEqual([100, 200]);
  });

  it("when IPv6 callers share a /64, then they share the per-address budget and the per-pair counter; another /64 does not", async () => {
    const g = loginLimits({ ...settings, maxAttemptsPerPeer: 2 }, async () => {});
    await g.admit(undefined, "2001:db8:1:2::1");
    await g.admit(undefined, "2001:db8:1:2::2");
    await expect(g.admit(undefined, "2001:db8:1:2:abcd::3")).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(g.admit(undefined, "2001:db8:1:3::1")).resolves.toBeUndefined();
    const { g: pairs } = gate();
    for (let i = 0; i < 3; i++) await fail(pairs, "dave", `2001:db8:9:9::${i + 1}`);
    await expect(pairs.admit("dave", "2001:db8:9:9::ff")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("when a trusted address is past the per-address budget, then it still fails per (user, address) after too many wrong passwords", async () => {
    const g = loginLimits({ ...settings, maxAttemptsPerPeer: 1 }, async () => {});
    await g.admit("dave", "10.0.0.1");
    await g.succeeded("dave", "10.0.0.1");
    await g.admit(undefined, "10.0.0.1");
    await expect(g.admit(undefined, "10.0.0.1")).rejects.toBeInstanceOf(ResourceExhaustedError);
    for (let i = 0; i < 3; i++) await fail(g, "dave", "10.0.0.1");
    await expect(g.admit("dave", "10.0.0.1")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("when admitted attempts are withdrawn (never checked), then they count against no limit", async () => {
    const g = loginLimits({ ...settings, maxAttemptsPerPeer: 2, maxRegistersPerPeer: 1 }, async () => {});
    for (let i = 0; i < 5; i++) {
      await g.admit("dave", "10.0.0.1");
      await g.withdraw("dave", "10.0.0.1");
      await g.admit(undefined, "10.0.0.1");
      await g.withdraw(undefined, "10.0.0.1");
      await g.admitRegister("10.0.0.1");
      await g.withdrawRegister("10.0.0.1");
    }
    await expect(g.admit("dave", "10.0.0.1")).resolves.toBeUndefined();
    await expect(g.admitRegister("10.0.0.1")).resolves.toBeUndefined();
    await expect(g.admitRegister("10.0.0.1")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });
});
