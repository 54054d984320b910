// One notion of a username: NFKC, then lower case, in every store, lookup and roll.
import { expect, it } from "vitest";
import { authV1, Status, voteV1 } from "@voting/client";
import { authMigrations } from "../auth-server/src/db/migrations.js";
import { describeOnStores, eventually, uniqueName } from "./harness.js";

describeOnStores("usernames have one canonical form", (system) => {
  it("when Officer is registered next to officer, then ALREADY_EXISTS", async () => {
    const anon = system().client();
    const name = uniqueName("officer");
    await anon.auth.register({ username: name, password: "officer-password", role: authV1.Role.ROLE_VOTER });
    for (const variant of [name[0].toUpperCase() + name.slice(1), name.toUpperCase(), name.replace(/o/g, "\uff4f")]) {
      await expect(anon.auth.register({ username: variant, password: "impostor-password", role: authV1.Role.ROLE_CANDIDATE }), variant).rejects.toMatchObject({
        code: Status.ALREADY_EXISTS,
      });
    }
  });

  it("when Dave registers, then the account is dave and DAVE logs into it", async () => {
    const anon = system().client();
    const name = uniqueName("dave");
    const r = await anon.auth.register({ username: name.toUpperCase(), password: "dave-password", role: authV1.Role.ROLE_VOTER });
    expect(r.user?.username).toBe(name);
    const login = await anon.auth.login({ username: name[0].toUpperCase() + name.slice(1), password: "dave-password" });
    expect(login.user).toMatchObject({ id: r.user!.id, username: name });
  });

  it("when a voter roll lists Dave, then user dave may vote", async () => {
    const sys = system();
    const voter = await sys.user("voter", uniqueName("dave"));
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({
      title: uniqueName("Roll"),
      method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY,
      candidates: ["Ada", "Grace"],
      voterRoll: [voter.username.toUpperCase()],
    });
    await admin.elections.addToVoterRoll({ electionId: election!.id, usernames: [voter.username[0].toUpperCase() + voter.username.slice(1)] });
    expect((await admin.elections.getElection({ electionId: election!.id })).election?.voterRollSize).toBe(1);
    await admin.elections.openElection({ electionId: election!.id });
    await expect(sys.client(voter.token).votes.castVote({ electionId: election!.id, ballot: { choices: [1] } })).resolves.toBeDefined();
  });
});

describeOnStores("upgrading to canonical usernames", (system, store) => {
  it("when rows with upper-case names exist from before, then the upgrade makes them canonical, and on a collision the oldest account keeps the name", async () => {
    const sys = system();
    const older = await sys.user("voter");
    const hash = (await sys.db.kysely.selectFrom("users").select("password_hash").where("id", "=", older.id).executeTakeFirstOrThrow()).password_hash;
    const upper = uniqueName("zed").toUpperCase();
    await sys.stopAuth();
    // As an older auth-server wrote them: names as typed.
    await sys.db.kysely.insertInto("users").values({ username: upper, password_hash: hash, role: "voter", created_at: Date.now() }).execute();
    if (store === "sqlite") {
      await sys.db.kysely.insertInto("users").values({ username: older.username.toUpperCase(), password_hash: hash, role: "voter", created_at: Date.now() }).execute();
    }
    // Later migrations have run too, so apply this one again by hand, as a fresh upgrade would.
    await sys.db.kysely.schema.dropTable("used_assertions").execute();
    await authMigrations(sys.db.dialect)["0002-canonical-usernames-and-used-assertions"].up(sys.db.kysely);
    await sys.startAuth();
    const anon = sys.client();
    // The first call after a restart may meet the old connection's teardown.
    await eventually(() => anon.auth.getJwks().then(() => true), 10_000, "auth-server back");

    const names = (await sys.db.kysely.selectFrom("users").select(["id", "username"]).execute()).map((r: { id: number; username: string }) => r.username);
    expect(names).toContain(upper.toLowerCase());
    expect(names.filter((n: string) => n !== n.toLowerCase())).toEqual([]);
    if (store === "sqlite") expect(names.filter((n: string) => n.startsWith(`${older.username}#`))).toHaveLength(1);
    expect((await anon.auth.login({ username: upper, password: older.password })).user?.username).toBe(upper.toLowerCase());
    expect((await anon.auth.login({ username: older.username, password: older.password })).user?.id).toBe(older.id);
  });
});
