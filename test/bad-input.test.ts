// Every refusal: the gRPC status of DESIGN.md, a message a person understands, and no row changed.
import { expect, it } from "vitest";
import { authV1, Status, type VotingClient } from "@voting/client";
import { describeOnStores, rowCounts, uniqueName, type System } from "./harness.js";

async function refused(sys: System, call: () => Promise<unknown>, code: Status, message: RegExp): Promise<void> {
  const before = await rowCounts(sys);
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have been refused").toBeDefined();
  expect(err).toMatchObject({ code });
  expect((err as { details: string }).details).toMatch(message);
  expect((err as { details: string }).details).not.toMatch(/SQL|sqlite|mysql|at .*\.ts/i);
  expect(await rowCounts(sys)).toEqual(before);
}

describeOnStores("bad input", (system) => {
  let anon: VotingClient;
  const register = (username: string, password: string, role: authV1.Role = authV1.Role.ROLE_VOTER) => anon.auth.register({ username, password, role });

  it("when a username is too short, too long or has other characters, then INVALID_ARGUMENT", async () => {
    anon = system().client();
    for (const name of ["ab", "x".repeat(65), "al ice", "alice!", "élodie", ""]) {
      await refused(system(), () => register(name, "long enough pw"), Status.INVALID_ARGUMENT, /username must be 3 to 64 characters/);
    }
  });

  it("when a password is shorter than 8 or longer than 1024 characters, then INVALID_ARGUMENT", async () => {
    await refused(system(), () => register(uniqueName("v"), "short77"), Status.INVALID_ARGUMENT, /password must be 8 to 1024/);
    await refused(system(), () => register(uniqueName("v"), "p".repeat(1025)), Status.INVALID_ARGUMENT, /password must be 8 to 1024/);
    await expect(register(uniqueName("v"), "p".repeat(1024))).resolves.toBeDefined();
  });

  it("when the role is unknown, unset, admin or service, then INVALID_ARGUMENT", async () => {
    for (const role of [authV1.Role.ROLE_UNSPECIFIED, authV1.Role.ROLE_ADMIN, authV1.Role.ROLE_SERVICE, 42 as authV1.Role]) {
      await refused(system(), () => register(uniqueName("v"), "long enough pw", role), Status.INVALID_ARGUMENT, /role must be ROLE_VOTER or ROLE_CANDIDATE/);
    }
  });

  it("when a username is taken or reserved, then ALREADY_EXISTS or INVALID_ARGUMENT", async () => {
    const name = uniqueName("dup");
    await register(name, "long enough pw");
    await refused(system(), () => register(name, "other password", authV1.Role.ROLE_CANDIDATE), Status.ALREADY_EXISTS, new RegExp(`username ${name} is taken`));
    await refused(system(), () => register("svc-vote", "long enough pw"), Status.INVALID_ARGUMENT, /reserved/);
  });

  it("when the password is wrong or the user unknown, then the same UNAUTHENTICATED message", async () => {
    const u = await system().user("voter");
    const wrong = await anon.auth.login({ username: u.username, password: "not the password" }).catch((e) => e);
    const unknown = await anon.auth.login({ username: uniqueName("ghost"), password: "not the password" }).catch((e) => e);
    expect(wrong).toMatchObject({ code: Status.UNAUTHENTICATED, details: "invalid username or password" });
    expect(unknown).toMatchObject({ code: Status.UNAUTHENTICATED, details: "invalid username or password" });
  });

  it("when a voter votes for someone who is not a candidate, then INVALID_ARGUMENT and no ballot", async () => {
    const voter = await system().user("voter");
    const other = await system().user("voter");
    const c = system().client(voter.token);
    for (const id of [other.id, 999_999, voter.id]) {
      await refused(system(), () => c.votes.castVote({ ballot: { choices: [id] } }), Status.INVALID_ARGUMENT, new RegExp(`${id} is not a candidate`));
    }
  });

  it("when a ballot is empty, names two candidates, repeats one or has a bad key, then INVALID_ARGUMENT", async () => {
    const voter = await system().user("voter");
    const [a, b] = [await system().user("candidate"), await system().user("candidate")];
    const c = system().client(voter.token);
    await refused(system(), () => c.votes.castVote({ ballot: { choices: [] } }), Status.INVALID_ARGUMENT, /plurality: a ballot names exactly one candidate/);
    await refused(system(), () => c.votes.castVote({ ballot: { choices: [a.id, b.id] } }), Status.INVALID_ARGUMENT, /plurality: a ballot names exactly one candidate/);
    await refused(system(), () => c.votes.castVote({ ballot: { choices: [a.id, a.id] } }), Status.INVALID_ARGUMENT, /plurality: a ballot names exactly one candidate/);
    await refused(system(), () => c.votes.castVote({ ballot: { choices: [a.id] }, idempotencyKey: Buffer.alloc(8) }), Status.INVALID_ARGUMENT, /idempotency_key/);
    await refused(system(), () => c.votes.castVote({ electionId: 424242, ballot: { choices: [a.id] } }), Status.NOT_FOUND, /election 424242 not found/);
  });

  it("when a candidate or an anonymous caller tries to vote, then PERMISSION_DENIED or UNAUTHENTICATED", async () => {
    const cand = await system().user("candidate");
    await refused(system(), () => system().client(cand.token).votes.castVote({ ballot: { choices: [cand.id] } }), Status.PERMISSION_DENIED, /role candidate may not call CastVote/);
    await refused(system(), () => anon.votes.castVote({ ballot: { choices: [cand.id] } }), Status.UNAUTHENTICATED, /needs a bearer token/);
  });

  it("when a voter reads another voter or lists voters, then PERMISSION_DENIED", async () => {
    const [v1, v2] = [await system().user("voter"), await system().user("voter")];
    const c = system().client(v1.token);
    await expect(c.auth.getUser({ id: v2.id })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    await expect(c.auth.listUsers({ role: authV1.Role.ROLE_VOTER })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    expect((await c.auth.getUser({ id: v1.id })).user!.username).toBe(v1.username);
  });

  it("when a tracking code or page token is malformed, then INVALID_ARGUMENT", async () => {
    await expect(anon.votes.getReceipt({ trackingCode: "nope" })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(anon.votes.getReceipt({ trackingCode: "0".repeat(26) })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await expect(anon.elections.listElections({ pageToken: "garbage" })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it("when a request is larger than the receive limit, then RESOURCE_EXHAUSTED", async () => {
    await refused(system(), () => register(uniqueName("big"), "p".repeat(2 * 1024 * 1024)), Status.RESOURCE_EXHAUSTED, /./);
  });
});
