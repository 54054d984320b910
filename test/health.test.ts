// Health tells the truth: vote-server and tally-server cannot do their job without
// auth-server (keys, service token), so they say NOT_SERVING while it is away.
import { expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { healthV1 } from "@voting/api";
import { describeOnStores, eventually } from "./harness.js";

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
