// One notion of a username: NFKC, then lower case, in every store, lookup and roll.
import { expect, it } from "vitest";
import { authV1, Status, voteV1 } from "@voting/client";
import { describeOnStores, uniqueName } from "./harness.js";

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
