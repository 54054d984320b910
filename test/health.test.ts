// Health tells the truth: vote-server and tally-server cannot do their job without
// auth-server (keys, service token), so they say NOT_SERVING while it is away.
import { expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { healthV1, voteV1 } from "@voting/api";
import { Status, isServiceError } from "@voting/client";
import { describeOnStores, eventually, uniqueName } from "./harness.js";

const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;

function status(addr: string): Promise<healthV1.HealthCheckResponse_ServingStatus> {
  const health = new healthV1.HealthClient(addr, grpc.credentials.createInsecure());
  return new Promise<healthV1.HealthCheckResponse_ServingStatus>((resolve, reject) =>
    health.check({ service: "" }, { deadline: Date.now() + 2_000 }, (err, res) => (err ? reject(err) : resolve(res!.status))),
  ).finally(() => health.close());
}

const becomes = (addr: string, want: healthV1.HealthCheckResponse_ServingStatus, what: string) =>
  eventually(async () => ((await status(addr)) === want ? want : undefined), 20_000, what);

describeOnStores("health follows auth-server", (system) => {
  it("when auth-server is stopped, then vote-server and tally-server report NOT_SERVING, and SERVING once it is back", async () => {
    const sys = system();
    expect(await status(sys.addrs.vote)).toBe(SERVING);
    expect(await status(sys.addrs.tally)).toBe(SERVING);
    await sys.stopAuth();
    await becomes(sys.addrs.vote, NOT_SERVING, "vote-server NOT_SERVING");
    await becomes(sys.addrs.tally, NOT_SERVING, "tally-server NOT_SERVING");
    await sys.startAuth();
    await becomes(sys.addrs.vote, SERVING, "vote-server SERVING");
    await becomes(sys.addrs.tally, SERVING, "tally-server SERVING");
    const voter = await sys.user("voter");
    await expect(sys.client(voter.token).elections.getElection({ electionId: 1 })).resolves.toBeDefined();
  }, 60_000);
});

describeOnStores("health and results follow vote-server", (system) => {
  it("when vote-server is down, then tally-server reports NOT_SERVING and GetResults says UNAVAILABLE (never INTERNAL), and both recover when it is back", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Outage"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
    await admin.elections.openElection({ electionId: election!.id });
    const results = () => sys.client().tally.getResults({ electionId: election!.id }, { deadlineMs: 15_000 });
    expect((await results()).result!.electionId).toBe(election!.id);
    const restarting = sys.restartVote(10_000);
    try {
      await becomes(sys.addrs.tally, NOT_SERVING, "tally-server NOT_SERVING");
      // Election details read just before the outage may serve one more result; then it refuses.
      const refusal = await eventually(async () => {
        const err = await results().then(() => undefined, (e: unknown) => e);
        return err === undefined ? undefined : isServiceError(err) ? Status[err.code] : String(err);
      }, 20_000, "GetResults refused");
      expect(refusal).toBe("UNAVAILABLE");
    } finally {
      await restarting;
    }
    await becomes(sys.addrs.tally, SERVING, "tally-server SERVING");
    await eventually(async () => ((await results()).result!.electionId === election!.id ? true : undefined), 20_000, "results again");
  }, 90_000);
});
