// Voters see the elections they may vote in: ListElections tells a voter, per election, whether
// they are on its roll (or it has none) and whether they have voted; anonymous callers get the plain list.
import { expect, it } from "vitest";
import { Status, voteV1, type VotingClient } from "@voting/client";
import { describeOnStores, rowCounts, uniqueName, type System } from "./harness.js";

const M = voteV1.BallotMethod;

async function openElection(sys: System, voterRoll: string[] = []) {
  const a = sys.client(await sys.adminToken());
  const { election } = await a.elections.createElection({ title: uniqueName("Board"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace"], voterRoll });
  await a.elections.openElection({ electionId: election!.id });
  return election!.id;
}

async function listed(client: VotingClient, ids: number[]) {
  const { elections } = await client.elections.listElections({ pageSize: 500 });
  return ids.map((id) => {
    const e = elections.find((x) => x.id === id)!;
    return { id, mayVote: e.callerMayVote, hasVoted: e.callerHasVoted };
  });
}

describeOnStores("the elections a voter may vote in", (system) => {
  it("when a voter lists elections, then each says whether they are on its roll and whether they have voted", async () => {
    const sys = system();
    const on = await sys.user("voter");
    const off = await sys.user("voter");
    const rolled = await openElection(sys, [on.username]);
    const free = await openElection(sys);
    const ids = [rolled, free];

    expect(await listed(sys.client(on.token), ids)).toEqual([
      { id: rolled, mayVote: true, hasVoted: false },
      { id: free, mayVote: true, hasVoted: false },
    ]);
    expect(await listed(sys.client(off.token), ids)).toEqual([
      { id: rolled, mayVote: false, hasVoted: false },
      { id: free, mayVote: true, hasVoted: false },
    ]);

    await sys.client(on.token).votes.castVote({ electionId: rolled, ballot: { choices: [1] } });
    expect(await listed(sys.client(on.token), ids)).toEqual([
      { id: rolled, mayVote: false, hasVoted: true },
      { id: free, mayVote: true, hasVoted: false },
    ]);
    // Another voter's ballot says nothing about this one.
    expect((await listed(sys.client(off.token), ids))[0]).toEqual({ id: rolled, mayVote: false, hasVoted: false });
  });

  it("when an anonymous caller or an admin lists elections, then the list carries no voter standing", async () => {
    const sys = system();
    const id = await openElection(sys, ["someone"]);
    expect(await listed(sys.client(), [id])).toEqual([{ id, mayVote: undefined, hasVoted: undefined }]);
    expect(await listed(sys.client(await sys.adminToken()), [id])).toEqual([{ id, mayVote: undefined, hasVoted: undefined }]);
  });

  it("when a voter lists with bad input, then INVALID_ARGUMENT and nothing changes", async () => {
    const sys = system();
    const voter = sys.client((await sys.user("voter")).token);
    const before = await rowCounts(sys);
    await expect(voter.elections.listElections({ pageToken: "not-a-token" })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(voter.elections.listElections({ pageSize: 501 })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(voter.elections.listElections({ state: 99 as voteV1.ElectionState })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(await rowCounts(sys)).toEqual(before);
  });
});
