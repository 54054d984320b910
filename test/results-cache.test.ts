// GetResults is served from a materialised result per election: whatever changes the answer
// (new ballots, the close and its statement, an integrity alarm) must show through it, and an
// embargo must hold for everyone however the result was warmed.
import { expect, it } from "vitest";
import { voteV1 } from "@voting/client";
import { describeOnStores, eventually, uniqueName, type System } from "./harness.js";

async function openElection(sys: System, resultsWhileOpen: boolean) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Cached"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen });
  await admin.elections.openElection({ electionId: election!.id });
  return { admin, id: election!.id };
}

const cast = async (sys: System, electionId: number, choice: number) => {
  const v = await sys.user("voter");
  await sys.client(v.token).votes.castVote({ electionId, ballot: { choices: [choice] } });
};

describeOnStores("GetResults from the materialised result", (system) => {
  const results = (sys: System, electionId: number, token?: string) => sys.client(token).tally.getResults({ electionId }).then((r) => r.result!);
  const counted = (sys: System, electionId: number, seq: number) =>
    eventually(async () => {
      const r = await results(sys, electionId);
      return r.countedThroughSeq === seq ? r : undefined;
    }, 10_000, `seq ${seq} counted`);

  it("when new ballots are counted after results were served, then GetResults shows them, and WatchResults agrees", async () => {
    const sys = system();
    const { id } = await openElection(sys, true);
    await cast(sys, id, 1);
    const first = await counted(sys, id, 1);
    // Served twice from the same counted state: the same answer.
    expect(await results(sys, id)).toEqual(first);
    expect(first.candidates.find((c) => c.candidateId === 1)!.votes).toBe("1");

    await cast(sys, id, 2);
    await cast(sys, id, 2);
    const later = await counted(sys, id, 3);
    expect(later.totalBallots).toBe(3);
    expect(later.candidates.find((c) => c.candidateId === 2)!.votes).toBe("2");
    expect(later.winners).toEqual([2]);

    const watch = sys.client().tally.watchResults({ electionId: id });
    for await (const msg of await watch) {
      expect(msg.result).toEqual(later);
      break;
    }
  });

  it("when the election closes after results were served, then GetResults turns final with the signed statement", async () => {
    const sys = system();
    const { admin, id } = await openElection(sys, true);
    await cast(sys, id, 1);
    const open = await counted(sys, id, 1);
    expect(open.final).toBe(false);
    expect(open.statement).toBe("");
    await admin.elections.closeElection({ electionId: id });
    const closed = await eventually(async () => {
      const r = await results(sys, id);
      return r.final ? r : undefined;
    }, 10_000, "final result");
    expect(closed.statement).not.toBe("");
    expect(closed.winners).toEqual([1]);
  });

  it("when an embargoed election's results were asked for by the admin, then an anonymous caller still sees only the turnout, until the close", async () => {
    const sys = system();
    const { admin, id } = await openElection(sys, false);
    await cast(sys, id, 1);
    await cast(sys, id, 2);
    await cast(sys, id, 2);
    const adminToken = await sys.adminToken();
    const warmed = await eventually(async () => {
      const r = await results(sys, id, adminToken);
      return r.countedThroughSeq === 3 ? r : undefined;
    }, 10_000, "ballots counted");
    expect(warmed.embargoed).toBe(true);
    const anon = await results(sys, id);
    expect(anon.embargoed).toBe(true);
    expect(anon.totalBallots).toBe(3);
    expect(anon.candidates).toEqual([]);
    expect(anon.winners).toEqual([]);
    expect(anon.rounds).toEqual([]);

    await admin.elections.closeElection({ electionId: id });
    const revealed = await eventually(async () => {
      const r = await results(sys, id);
      return r.final ? r : undefined;
    }, 10_000, "final result");
    expect(revealed.embargoed).toBe(false);
    expect(revealed.winners).toEqual([2]);
  });

  it("when the ballot chain breaks after results were served, then GetResults shows the alarm", async () => {
    const sys = system();
    const { id } = await openElection(sys, true);
    await cast(sys, id, 1);
    expect((await counted(sys, id, 1)).integrityAlarms).toEqual([]);
    // An insider rewrites the head the next entry chains from: that entry no longer follows seq 1.
    await sys.db.kysely.updateTable("elections").set({ head_hash: "f".repeat(64) }).where("id", "=", id).execute();
    await cast(sys, id, 2);
    const alarmed = await eventually(async () => {
      const r = await results(sys, id);
      return r.integrityAlarms.length > 0 ? r : undefined;
    }, 10_000, "ballot-chain alarm");
    expect(alarmed.integrityAlarms).toEqual([expect.stringMatching(/^ballot-chain: /)]);
    expect(alarmed.countedThroughSeq).toBe(1);
  });
});
