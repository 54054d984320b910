// Failed-login limits slow a guesser without letting anyone lock the real user out: counters
// per (canonical username, client address), a higher per-username ceiling that only delays,
// and the per-address attempt limit.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Status, type VotingClient } from "@voting/client";
import { authV1, createVotingClient } from "@voting/client";
import { describeOnStores, uniqueName, type System } from "./harness.js";
import { proxyFrom, type Proxy } from "./proxy.js";

/** Clients whose calls reach auth-server from another loopback address. */
function fromAddresses(system: () => System, addresses: string[]) {
  const proxies = new Map<string, Proxy>();
  const clients: VotingClient[] = [];
  beforeAll(async () => {
    for (const a of addresses) proxies.set(a, await proxyFrom(a, system().addrs.auth));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of proxies.values()) await p.close();
  });
  return (address: string) => {
    const c = createVotingClient({ authAddr: proxies.get(address)!.addr, waitForReady: true });
    clients.push(c);
    return c;
  };
}

const wrong = (c: VotingClient, username: string) => c.auth.login({ username, password: "wrong password" }).then(
  () => "ok",
  (e: { code: number }) => e.code,
);

describeOnStores(
  "login attempt limits",
  (system) => {
    const from = fromAddresses(system, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);

    it("when a user's password is guessed wrong too often from one address, then that address is RESOURCE_EXHAUSTED for that user only, and the right password works from another address", async () => {
      const u = await system().user("voter");
      const attacker = system().client();
      for (let i = 0; i < 3; i++) expect(await wrong(attacker, u.username)).toBe(Status.UNAUTHENTICATED);
      await expect(attacker.auth.login({ username: u.username, password: u.password })).rejects.toMatchObject({
        code: Status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/too many failed logins for this user from this address; try again in \d+ s/),
      });
      const other = await system().user("voter");
      await expect(attacker.auth.login({ username: other.username, password: other.password })).resolves.toBeDefined();
      const r = await from("127.0.0.2").auth.login({ username: u.username, password: u.password });
      expect(r.user?.username).toBe(u.username);
    });

    it("when a username is guessed from many addresses past the per-user ceiling, then guesses are slowed, not refused, and the real user still logs in from a new address", async () => {
      const u = await system().user("voter");
      const codes = [];
      for (const c of [system().client(), from("127.0.0.3"), from("127.0.0.4")]) for (let i = 0; i < 3; i++) codes.push(await wrong(c, u.username));
      expect(codes.filter((c) => c === Status.UNAUTHENTICATED).length).toBe(9);
      const r = await from("127.0.0.5").auth.login({ username: u.username, password: u.password });
      expect(r.user?.username).toBe(u.username);
    });

    it("when Dave and DAVE guess the password of dave, then they share one counter and one account", async () => {
      const password = "dave-password-1";
      const base = uniqueName("dave");
      await system().client().auth.register({ username: base, password, role: authV1.Role.ROLE_VOTER });
      const attacker = system().client();
      expect(await wrong(attacker, base.toUpperCase())).toBe(Status.UNAUTHENTICATED);
      expect(await wrong(attacker, base[0].toUpperCase() + base.slice(1))).toBe(Status.UNAUTHENTICATED);
      expect(await wrong(attacker, base)).toBe(Status.UNAUTHENTICATED);
      expect(await wrong(attacker, base.toUpperCase())).toBe(Status.RESOURCE_EXHAUSTED);
      await expect(attacker.auth.login({ username: base, password })).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
      const r = await from("127.0.0.2").auth.login({ username: base.toUpperCase(), password });
      expect(r.user?.username).toBe(base);
    });
  },
  { LOGIN_MAX_FAILURES_PER_USER_ADDRESS: "3", LOGIN_SLOW_AFTER_FAILURES_PER_USER: "4", LOGIN_MAX_DELAY_MS: "300" },
);

describeOnStores(
  "login attempt limits per client address",
  (system) => {
    it("when one address tries too many logins, then RESOURCE_EXHAUSTED whatever the user", async () => {
      const anon = system().client();
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await wrong(anon, `nobody-${i}`));
      expect(results).toEqual([...Array(5).fill(Status.UNAUTHENTICATED), Status.RESOURCE_EXHAUSTED, Status.RESOURCE_EXHAUSTED]);
    });
  },
  { LOGIN_MAX_ATTEMPTS_PER_PEER: "5" },
);

describeOnStores(
  "login and register limits on a shared address (NAT)",
  (system) => {
    const from = fromAddresses(system, ["127.0.0.6", "127.0.0.7", "127.0.0.8"]);
    const right = (c: VotingClient, u: { username: string; password: string }) => c.auth.login(u).then(
      () => "ok",
      (e: { code: number }) => e.code,
    );

    it("when a user logs in successfully more often than the per-address budget, then every login works", async () => {
      const u = await system().user("voter");
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await right(from("127.0.0.6"), u));
      expect(results).toEqual(Array(7).fill("ok"));
    });

    it("when junk logins exhaust a shared address, then a user who logged in from there still gets in and still has its failures counted; a newcomer does not", async () => {
      const nat = from("127.0.0.7");
      const admin = await system().user("voter");
      const newcomer = await system().user("voter");
      expect(await right(nat, admin)).toBe("ok");
      const junk = [];
      for (let i = 0; i < 7; i++) junk.push(await wrong(nat, `nobody-${i}`));
      expect(junk).toEqual([...Array(5).fill(Status.UNAUTHENTICATED), Status.RESOURCE_EXHAUSTED, Status.RESOURCE_EXHAUSTED]);
      expect(await right(nat, admin)).toBe("ok");
      expect(await wrong(nat, admin.username)).toBe(Status.UNAUTHENTICATED);
      expect(await right(nat, newcomer)).toBe(Status.RESOURCE_EXHAUSTED);
      expect(await right(from("127.0.0.6"), newcomer)).toBe("ok");
    });

    it("when one address registers too often, then RESOURCE_EXHAUSTED and no user is written; other addresses still register", async () => {
      const c = from("127.0.0.8");
      const register = (c: VotingClient) => c.auth.register({ username: uniqueName("reg"), password: "register-pw-1", role: authV1.Role.ROLE_VOTER }).then(
        () => "ok",
        (e: { code: number }) => e.code,
      );
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await register(c));
      const before = await system().db.kysely.selectFrom("users").select((eb: any) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
      results.push(await register(c));
      const after = await system().db.kysely.selectFrom("users").select((eb: any) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
      expect(results).toEqual([...Array(4).fill("ok"), Status.RESOURCE_EXHAUSTED]);
      expect(Number(after.n)).toBe(Number(before.n));
      expect(await register(from("127.0.0.6"))).toBe("ok");
    });
  },
  { LOGIN_MAX_ATTEMPTS_PER_PEER: "5", REGISTER_MAX_PER_PEER: "4" },
);
