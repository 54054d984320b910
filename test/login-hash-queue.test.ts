// auth-server runs at most AUTH_HASH_CONCURRENCY password checks at once and lets at most
// AUTH_HASH_QUEUE wait; a login beyond them is refused at once with RESOURCE_EXHAUSTED
// PASSWORD_CHECKS_BUSY and a retry hint, and the refusal counts against no login limit.
import { expect, it } from "vitest";
import { authV1, errorDetails, Status } from "@voting/client";
import { describeOnStores, uniqueName } from "./harness.js";

const BURST = 24;

describeOnStores(
  "password-check queue",
  (system) => {
    it("when a burst of logins exceeds the queue, then some are PASSWORD_CHECKS_BUSY with a retry hint, the rest succeed, and every one succeeds when retried", async () => {
      const c = system().client();
      const users = [];
      for (let i = 0; i < BURST; i++) {
        const u = { username: uniqueName("storm"), password: "storm-password" };
        await c.auth.register({ ...u, role: authV1.Role.ROLE_VOTER });
        users.push(u);
      }
      const refusals: Array<ReturnType<typeof errorDetails>> = [];
      const loginUntilOk = async (u: { username: string; password: string }) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await c.auth.login(u);
          } catch (err) {
            const d = errorDetails(err);
            if (d?.reason !== "PASSWORD_CHECKS_BUSY" || attempt >= 200) throw err;
            refusals.push(d);
            await new Promise((r) => setTimeout(r, d.retryDelayMs ?? 100));
          }
        }
      };
      const results = await Promise.all(users.map(loginUntilOk));

      expect(results.map((r) => r.user?.username)).toEqual(users.map((u) => u.username));
      expect(refusals.length).toBeGreaterThan(0);
      for (const d of refusals) {
        expect(d).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, reason: "PASSWORD_CHECKS_BUSY" });
        expect(d?.retryDelayMs).toBeGreaterThan(0);
      }
    });

    it("when the queue is free again, then a right password succeeds and a wrong one is LOGIN_FAILED", async () => {
      const u = await system().user("voter");
      const c = system().client();
      await expect(c.auth.login({ username: u.username, password: u.password })).resolves.toMatchObject({ user: { username: u.username } });
      const wrong = await c.auth.login({ username: u.username, password: "not the password" }).catch((e: unknown) => errorDetails(e));
      expect(wrong).toMatchObject({ code: Status.UNAUTHENTICATED, reason: "LOGIN_FAILED" });
    });
  },
  // OWASP-strength hashes, one at a time, two waiting; one failure per (user, address) so a
  // refusal that counted as an attempt would lock its user out of the retries.
  { ARGON2_MEMORY_KIB: "19456", ARGON2_TIME_COST: "2", AUTH_HASH_CONCURRENCY: "1", AUTH_HASH_QUEUE: "2", LOGIN_MAX_FAILURES_PER_USER_ADDRESS: "1" },
);
