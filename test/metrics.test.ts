// Prometheus metrics: each server's /metrics (side HTTP port) counts its own calls, votes,
// commits and streams; unknown paths and unknown methods add nothing an attacker can grow.
import { expect, it } from "vitest";
import { credentials, Metadata, makeGenericClientConstructor } from "@grpc/grpc-js";
import { Status, voteV1 } from "@voting/client";
import { describeOnStores, eventually, uniqueName } from "./harness.js";

const M = voteV1.BallotMethod;

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

/** Value of one sample line, e.g. `vote_ballots_appended_total` or `x_count{a="b"}`; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

describeOnStores(
  "Prometheus metrics",
  (system) => {
    it("when votes are cast, then each server's /metrics shows its calls, the appended ballots, the commits and the count", async () => {
      const sys = system();
      const ports = sys.metricsPorts();
      expect(ports.auth).toBeGreaterThan(0);
      expect(ports.vote).toBeGreaterThan(0);
      expect(ports.tally).toBeGreaterThan(0);
      expect(new Set([ports.auth, ports.vote, ports.tally]).size).toBe(3);

      const admin = sys.client(await sys.adminToken());
      const { election } = await admin.elections.createElection({ title: uniqueName("Metrics"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
      const id = election!.id;
      await admin.elections.openElection({ electionId: id });
      const n = 5;
      const voters = await Promise.all(Array.from({ length: n }, () => sys.user("voter")));
      await Promise.all(voters.map((v, i) => sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + (i % 2)] } })));
      const watch = await sys.client(voters[0].token).tally.watchResults({ electionId: id });
      watch.on("error", () => undefined);
      await new Promise((resolve) => watch.once("data", resolve));

      const vote = (await get(ports.vote!, "/metrics")).text;
      const castOk = { grpc_service: "voting.vote.v1.VoteService", grpc_method: "CastVote", grpc_code: "OK" };
      expect(sample(vote, "grpc_server_handled_total", castOk)).toBeGreaterThanOrEqual(n);
      expect(sample(vote, "grpc_server_handling_seconds_count", castOk)).toBeGreaterThanOrEqual(n);
      expect(sample(vote, "vote_ballots_appended_total")).toBeGreaterThanOrEqual(n);
      expect(sample(vote, "vote_commit_batch_size_count")).toBeGreaterThanOrEqual(1);
      expect(sample(vote, "vote_commit_batch_size_sum")).toBeGreaterThanOrEqual(n);
      // tally-server follows the election's log (as a service account: not in vote_follow_streams).
      expect(sample(vote, "vote_follow_followers")).toBeGreaterThanOrEqual(1);
      expect(vote).toMatch(/^process_cpu_seconds_total /m);

      const auth = (await get(ports.auth!, "/metrics")).text;
      expect(sample(auth, "grpc_server_handled_total", { grpc_service: "voting.auth.v1.AuthService", grpc_method: "Login", grpc_code: "OK" })).toBeGreaterThanOrEqual(n);
      // Each server has its own registry: auth-server saw no CastVote.
      expect(sample(auth, "grpc_server_handled_total", castOk)).toBe(0);

      const tally = await eventually(async () => {
        const text = (await get(ports.tally!, "/metrics")).text;
        return sample(text, "tally_ballots_counted_total") >= n ? text : undefined;
      }, 10_000, "tally-server counted the ballots");
      expect(sample(tally, "tally_apply_seconds_count")).toBeGreaterThanOrEqual(1);
      expect(sample(tally, "tally_watch_streams")).toBe(1);
      watch.cancel();
      await eventually(async () => (sample((await get(ports.tally!, "/metrics")).text, "tally_watch_streams") === 0 ? true : undefined));
    });

    it("when a path other than /metrics is asked for, then 404", async () => {
      const { vote } = system().metricsPorts();
      expect((await get(vote!, "/")).status).toBe(404);
      expect((await get(vote!, "/metrics/../admin")).status).toBe(404);
      expect((await get(vote!, "/metricsx")).status).toBe(404);
      expect((await get(vote!, "/metrics")).status).toBe(200);
    });

    it("when callers invent method names, then no label value is made of them", async () => {
      const sys = system();
      const ctor = makeGenericClientConstructor({}, "Nothing");
      const raw = new ctor(sys.addrs.vote, credentials.createInsecure());
      const invented = uniqueName("Invented");
      const code = await new Promise<number>((resolve) =>
        raw.makeUnaryRequest(`/voting.vote.v1.VoteService/${invented}`, (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), new Metadata(), (err) => resolve(err?.code ?? 0)),
      );
      raw.close();
      expect(code).toBe(Status.UNIMPLEMENTED);
      const text = (await get(sys.metricsPorts().vote!, "/metrics")).text;
      expect(text).not.toContain(invented);
    });
  },
  { AUTH_METRICS_PORT: "0", VOTE_METRICS_PORT: "0", TALLY_METRICS_PORT: "0" },
);
