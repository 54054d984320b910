import { describe, expect, it } from "vitest";
import { serverMetrics } from "./metrics.js";

describe("serverMetrics", () => {
  it("when a call's method is served, then it is counted under its service, method and code name", async () => {
    const m = serverMetrics();
    m.known.add("/voting.vote.v1.VoteService/CastVote");
    m.rpc("/voting.vote.v1.VoteService/CastVote", 0, 0.002);
    m.rpc("/voting.vote.v1.VoteService/CastVote", 8, 0.001);
    const text = await m.registry.metrics();
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="OK"} 1');
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="RESOURCE_EXHAUSTED"} 1');
    expect(text).toContain('grpc_server_handling_seconds_count{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="OK"} 1');
  });

  it("when a path is not a served method, then it is counted as unknown, so callers cannot add label values", async () => {
    const m = serverMetrics();
    for (let i = 0; i < 3; i++) m.rpc(`/voting.vote.v1.VoteService/Invented${i}`, 12, 0.001);
    const text = await m.registry.metrics();
    expect(text).not.toContain("Invented");
    expect(text).toContain('grpc_server_handled_total{grpc_service="unknown",grpc_method="unknown",grpc_code="UNIMPLEMENTED"} 3');
  });

  it("when two servers run in one process, then each registry holds only its own calls", async () => {
    const a = serverMetrics();
    const b = serverMetrics();
    a.rpc("/grpc.health.v1.Health/Check", 0, 0.001);
    expect(await a.registry.metrics()).toContain('grpc_method="Check"');
    expect(await b.registry.metrics()).not.toContain('grpc_method="Check"');
  });

  it("when calls repeat with several codes, then each method and code keeps its own count (label sets are made once and reused)", async () => {
    const m = serverMetrics();
    const cast = "/voting.vote.v1.VoteService/CastVote";
    const get = "/voting.vote.v1.ElectionService/GetElection";
    m.known.add(cast);
    m.known.add(get);
    for (let i = 0; i < 3; i++) m.rpc(cast, 0, 0.001);
    for (let i = 0; i < 2; i++) m.rpc(cast, 5, 0.002);
    m.rpc(get, 5, 0.003);
    const text = await m.registry.metrics();
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="OK"} 3');
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="NOT_FOUND"} 2');
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.vote.v1.ElectionService",grpc_method="GetElection",grpc_code="NOT_FOUND"} 1');
    expect(text).toContain('grpc_server_handling_seconds_sum{grpc_service="voting.vote.v1.VoteService",grpc_method="CastVote",grpc_code="NOT_FOUND"} 0.004');
  });

  it("when a path counted as unknown becomes a served method, then its later calls are counted under its name", async () => {
    const m = serverMetrics();
    const path = "/voting.tally.v1.TallyService/GetResults";
    m.rpc(path, 0, 0.001);
    m.known.add(path);
    m.rpc(path, 0, 0.001);
    const text = await m.registry.metrics();
    expect(text).toContain('grpc_server_handled_total{grpc_service="unknown",grpc_method="unknown",grpc_code="OK"} 1');
    expect(text).toContain('grpc_server_handled_total{grpc_service="voting.tally.v1.TallyService",grpc_method="GetResults",grpc_code="OK"} 1');
  });
});
