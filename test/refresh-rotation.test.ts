// Refresh tokens rotate on use, and reusing a spent one revokes every token of its login
// (RFC 9700, section 4.14.2): a stolen refresh token is good for one race at most.
import { expect, it } from "vitest";
import { Status, type VotingClient } from "@voting/client";
import { refreshFamilyRepository } from "@voting/auth-server";
import { randomUUID } from "node:crypto";
import { describeOnStores } from "./harness.js";

describeOnStores("refresh-token rotation", (system) => {
  const login = async (anon: VotingClient, username: string, password: string) => (await anon.auth.login({ username, password })).tokens!;
  const refresh = (anon: VotingClient, refreshToken: string) => anon.auth.refreshToken({ refreshToken });

  it("when a refresh token is used, then a new one comes back and the old one is refused", async () => {
    const anon = system().client();
    const u = await system().user("voter");
    const first = await login(anon, u.username, u.password);
    const second = (await refresh(anon, first.refreshToken)).tokens!;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    // The new access token works.
    await expect(system().client(second.accessToken).auth.getUser({ id: u.id })).resolves.toMatchObject({ user: { id: u.id } });
    await expect(refresh(anon, first.refreshToken)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, details: expect.stringMatching(/already used/) });
  });

  it("when a spent refresh token is used again, then the newest token of its login is revoked too, and another login is untouched", async () => {
    const anon = system().client();
    const u = await system().user("voter");
    const stolen = await login(anon, u.username, u.password);
    const otherLogin = await login(anon, u.username, u.password);
    const a = (await refresh(anon, stolen.refreshToken)).tokens!;
    const b = (await refresh(anon, a.refreshToken)).tokens!;
    // The thief replays the spent token: refused, and the family dies.
    await expect(refresh(anon, stolen.refreshToken)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    await expect(refresh(anon, b.refreshToken)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, details: expect.stringMatching(/revoked/) });
    await expect(refresh(anon, a.refreshToken)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    // The same user's other login has its own family and keeps rotating.
    const c = (await refresh(anon, otherLogin.refreshToken)).tokens!;
    await expect(refresh(anon, c.refreshToken)).resolves.toBeDefined();
  });

  it("when many refreshes race with one token, then exactly one succeeds", async () => {
    const anon = system().client();
    const u = await system().user("voter");
    const t = await login(anon, u.username, u.password);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => refresh(anon, t.refreshToken)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: Status.UNAUTHENTICATED });
  });

  it("when a login's newest refresh token has expired, then its family row is purged and others stay", async () => {
    const families = refreshFamilyRepository(system().db);
    const stale = randomUUID();
    const live = randomUUID();
    const now = Date.now();
    await families.create({ family: stale, userId: 1, jti: randomUUID(), expiresAt: now - 1 });
    await families.create({ family: live, userId: 1, jti: randomUUID(), expiresAt: now + 60_000 });
    expect(await families.purgeExpired(now)).toBeGreaterThanOrEqual(1);
    expect(await families.state(stale)).toBeUndefined();
    expect(await families.state(live)).toBe("active");
  });
});
