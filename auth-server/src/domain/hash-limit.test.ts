import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@voting/server-kit";
import { defaultHashConcurrency, HashQueueFullError, limitedHasher } from "./hash-limit.js";
import { argon2Hasher, type PasswordHasher } from "./passwords.js";

/** A hasher whose every call waits until released, recording how many run at once. */
function heldHasher() {
  const held: Array<() => void> = [];
  const seen = { now: 0, max: 0 };
  const hold = async <T>(value: T): Promise<T> => {
    seen.max = Math.max(seen.max, ++seen.now);
    await new Promise<void>((r) => held.push(r));
    seen.now--;
    return value;
  };
  const hasher: PasswordHasher = { hash: (p) => hold(`h:${p}`), verify: (h, p) => hold(h === `h:${p}`), verifyDummy: () => hold(undefined) };
  // p-limit starts a task a tick after it is queued, so look again after each tick.
  const releaseAll = async () => {
    do {
      await new Promise((r) => setImmediate(r));
      held.splice(0).forEach((r) => r());
    } while (held.length > 0 || seen.now > 0);
  };
  return { hasher, seen, releaseAll };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("limited hasher", () => {
  it("when more calls come than the concurrency, then at most that many run at once and all finish", async () => {
    const { hasher, seen, releaseAll } = heldHasher();
    const limited = limitedHasher(hasher, { concurrency: 2, maxQueued: 10 });
    const calls = [limited.hash("a"), limited.verify("h:b", "b"), limited.verify("h:b", "c"), limited.verifyDummy("d"), limited.hash("e")];
    await settle();
    expect(seen.now).toBe(2);
    await releaseAll();
    expect(await Promise.all(calls)).toEqual(["h:a", true, false, undefined, "h:e"]);
    expect(seen.max).toBe(2);
  });

  it("when the queue is full, then the next call is refused at once with PASSWORD_CHECKS_BUSY and a retry hint, and later calls are taken again", async () => {
    const { hasher, seen, releaseAll } = heldHasher();
    const limited = limitedHasher(hasher, { concurrency: 1, maxQueued: 2 });
    const taken = [limited.hash("a"), limited.hash("b"), limited.hash("c")];
    const refused = await limited.verify("h:x", "x").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HashQueueFullError);
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect((refused as HashQueueFullError).reason).toBe("PASSWORD_CHECKS_BUSY");
    expect((refused as HashQueueFullError).retryAfterMs).toBeGreaterThan(0);
    await settle();
    expect(seen.now).toBe(1);
    await releaseAll();
    expect(await Promise.all(taken)).toEqual(["h:a", "h:b", "h:c"]);
    const again = limited.verify("h:x", "x");
    await releaseAll();
    expect(await again).toBe(true);
    expect(seen.max).toBe(1);
  });

  it("when a hash fails, then its place is given back", async () => {
    const failing: PasswordHasher = { hash: () => Promise.reject(new Error("boom")), verify: async () => true, verifyDummy: async () => undefined };
    const limited = limitedHasher(failing, { concurrency: 1, maxQueued: 0 });
    await expect(limited.hash("a")).rejects.toThrow("boom");
    await expect(limited.verify("x", "y")).resolves.toBe(true);
  });

  it("when wrapping argon2, then hashes still verify", async () => {
    const limited = limitedHasher(argon2Hasher({ memoryKiB: 1024, timeCost: 1, parallelism: 1 }), { concurrency: 1, maxQueued: 4 });
    const hashes = await Promise.all(["password-1", "password-2"].map((p) => limited.hash(p)));
    expect(await limited.verify(hashes[0], "password-1")).toBe(true);
    expect(await limited.verify(hashes[1], "password-1")).toBe(false);
  });

  it("defaults to one hash at a time on two cores or fewer, else half the cores", () => {
    expect([1, 2, 3, 4, 8, 16].map((c) => defaultHashConcurrency(c))).toEqual([1, 1, 1, 2, 4, 8]);
  });
});
