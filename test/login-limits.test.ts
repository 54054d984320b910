import { expect, it } from "vitest";
import { Status } from "@voting/client";
import { describeOnStores } from "./harness.js";

describeOnStores(
  "login attempt limits",
  (system) => {
    it("when a user's password is guessed wrong too often, then even the right one is RESOURCE_EXHAUSTED for a while", async () => {
      const u = await system().user("voter");
      const anon = system().client();
      for (let i = 0; i < 3; i++) {
        await expect(anon.auth.login({ username: u.username, password: "wrong password" })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
      }
      await expect(anon.auth.login({ username: u.username, password: u.password })).rejects.toMatchObject({
        code: Status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/too many failed logins for this user; try again in \d+ s/),
      });
      const other = await system().user("voter");
      await expect(anon.auth.login({ username: other.username, password: other.password })).resolves.toBeDefined();
    });
  },
  { LOGIN_MAX_FAILURES_PER_USER: "3" },
);

describeOnStores(
  "login attempt limits per client address",
  (system) => {
    it("when one address tries too many logins, then RESOURCE_EXHAUSTED whatever the user", async () => {
      const anon = system().client();
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await anon.auth.login({ username: `nobody-${i}`, password: "whatever-pw" }).catch((e) => e.code));
      // The servers' own service-account logins may have used some of the 5 attempts already.
      const first = results.indexOf(Status.RESOURCE_EXHAUSTED);
      expect(first).toBeGreaterThanOrEqual(3);
      expect(results.slice(0, first)).toEqual(Array(first).fill(Status.UNAUTHENTICATED));
      expect(results.slice(first)).toEqual(Array(results.length - first).fill(Status.RESOURCE_EXHAUSTED));
    });
  },
  { LOGIN_MAX_ATTEMPTS_PER_PEER: "5" },
);
