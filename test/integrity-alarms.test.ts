// An integrity alarm about one election is that election's business: a broken ballot chain
// stops counting it, shows in its results and leaves tally-server SERVING, counting the rest.
import { expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { healthV1 } from "@voting/api";
import { voteV1 } from "@voting/client";
import { describeOnStores, eventually, uniqueName, type System } from "./harness.js";

function healthOf(addr: string): Promise<number> {
  const health = new healthV1.HealthClient(addr, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => health.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res!.status)))).finally(() => health.close());
}

async function openElection(sys: System, title: string) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName(title), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
  await admin.elections.openElection({ electionId: election!.id });
  return election!.id;
}

const castOne = async (sys: System, electionId: number, choice: number) => {
  const v = await sys.user("voter");
  return (await sys.client(v.token).votes.castVote({ electionId, ballot: { choices: [choice] } })).receipt!;
};

describeOnStores("integrity alarms about one election", (system) => {
  it("when an election's ballot chain is broken in the store, then its results show the ballot-chain alarm and stop at the last good seq, while tally-server stays SERVING and counts another election", async () => {
    const sys = system();
    const results = (electionId: number) => sys.client().tally.getResults({ electionId }).then((r) => r.result!);
    const broken = await openElection(sys, "Broken");
    const other = await openElection(sys, "Other");
    await castOne(sys, broken, 1);
    await castOne(sys, broken, 2);
    await eventually(async () => ((await results(broken)).countedThroughSeq === 2 ? true : undefined), 10_000, "first ballots counted");

    // An insider rewrites the head the next entry chains from: that entry no longer follows seq 2.
    await sys.db.kysely.updateTable("elections").set({ head_hash: "f".repeat(64) }).where("id", "=", broken).execute();
    await castOne(sys, broken, 1);
    const alarmed = await eventually(async () => {
      const r = await results(broken);
      return r.integrityAlarms.length > 0 ? r : undefined;
    }, 10_000, "ballot-chain alarm");
    expect(alarmed.integrityAlarms).toEqual([expect.stringMatching(/^ballot-chain: the ballot log's hash chain is broken \(.+\); counting stopped$/)]);
    expect(alarmed.countedThroughSeq).toBe(2);
    expect(await healthOf(sys.addrs.tally)).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);

    await castOne(sys, other, 2);
    const counted = await eventually(async () => {
      const r = await results(other);
      return r.countedThroughSeq === 1 ? r : undefined;
    }, 10_000, "the other election counted");
    expect(counted.integrityAlarms).toEqual([]);
    expect(counted.candidates.find((c) => Number(c.votes) === 1)).toBeDefined();
    expect((await results(broken)).countedThroughSeq).toBe(2);
  });
});
