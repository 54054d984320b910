// What operators see: one trace across client, vote, auth and tally; log lines that carry the
// request id, peer and principal but never tokens or ballot content; and peer calls that end
// with the call they were made for.
import { afterAll, expect, it } from "vitest";
import mysql from "mysql2/promise";
import { sql } from "kysely";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Status, voteV1 } from "@voting/client";
import { createLogger, startTracing, stopTracing } from "@voting/server-kit";
import { describeOnStores, eventually, uniqueName } from "./harness.js";

const spans = new InMemorySpanExporter();
startTracing("test", { exporter: spans });
afterAll(stopTracing);

const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
const log = createLogger("test", "debug", {
  write(line: string) {
    raw.push(line);
    lines.push(JSON.parse(line));
  },
});

const finished = () => spans.getFinishedSpans();
const named = (trace: string, kind: SpanKind, name: string) => finished().find((s) => s.spanContext().traceId === trace && s.kind === kind && s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const rpcLines = (reqId: string) => lines.filter((l) => l.msg === "rpc" && l.reqId === reqId);

describeOnStores(
  "observability",
  (system, store) => {
    it("when a voter casts a vote, then client, vote-server and auth-server spans share one trace", async () => {
      const cand = await system().user("candidate");
      const voter = await system().user("voter");
      await system().client(voter.token).votes.castVote({ ballot: { choices: [cand.id] } });

      const client = finished().find((s) => s.kind === SpanKind.CLIENT && s.name === "voting.vote.v1.VoteService/CastVote" && named(s.spanContext().traceId, SpanKind.SERVER, s.name));
      expect(client).toBeDefined();
      const trace = client!.spanContext().traceId;
      const server = named(trace, SpanKind.SERVER, "voting.vote.v1.VoteService/CastVote")!;
      expect(parentOf(server)).toBe(client!.spanContext().spanId);
      expect(server.attributes["rpc.grpc.status_code"]).toBe(Status.OK);
      // The new candidate is looked up in auth-server, inside the same trace.
      const lookup = named(trace, SpanKind.CLIENT, "voting.auth.v1.AuthService/GetUser")!;
      expect(parentOf(lookup)).toBe(server.spanContext().spanId);
      expect(parentOf(named(trace, SpanKind.SERVER, "voting.auth.v1.AuthService/GetUser")!)).toBe(lookup.spanContext().spanId);
    });

    it("when tally-server asks vote-server about an election for a caller, then that call joins the caller's trace", async () => {
      const anon = system().client();
      const trace = await eventually(async () => {
        const before = finished().length;
        await anon.tally.getResults({});
        const served = finished().slice(before).find((s) => s.kind === SpanKind.SERVER && s.name === "voting.tally.v1.TallyService/GetResults");
        // tally-server caches what it asked for a second; once that ran out, it asks again.
        const id = served?.spanContext().traceId;
        return id && named(id, SpanKind.SERVER, "voting.vote.v1.ElectionService/GetElection") ? id : undefined;
      }, 8_000, "a GetResults that asked vote-server");
      const asked = named(trace, SpanKind.CLIENT, "voting.vote.v1.ElectionService/GetElection")!;
      expect(parentOf(asked)).toBe(named(trace, SpanKind.SERVER, "voting.tally.v1.TallyService/GetResults")!.spanContext().spanId);
    });

    it("when a call carries a malformed traceparent, then it succeeds and starts a new trace; a valid one is continued", async () => {
      const stub = new voteV1.ElectionServiceClient(system().addrs.vote, credentials.createInsecure());
      const call = (traceparent: string, requestId: string) =>
        new Promise<void>((resolve, reject) => {
          const md = new Metadata();
          md.set("traceparent", traceparent);
          md.set("x-request-id", requestId);
          stub.listElections(voteV1.ListElectionsRequest.fromPartial({ pageSize: 1 }), md, (err) => (err ? reject(err) : resolve()));
        });
      const serverSpan = (requestId: string) => finished().find((s) => s.kind === SpanKind.SERVER && s.attributes["voting.request_id"] === requestId)!;
      try {
        const bad = uniqueName("bad-trace");
        await call("00-not-a-trace-id-at-all-zz", bad);
        expect(serverSpan(bad).spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(parentOf(serverSpan(bad))).toBeUndefined();

        const good = uniqueName("good-trace");
        await call("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", good);
        expect(serverSpan(good).spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
        expect(parentOf(serverSpan(good))).toBe("b7ad6b7169203331");
      } finally {
        stub.close();
      }
    });

    it("when a voter votes, then its log lines carry request id, peer and principal, and no token or ballot content", async () => {
      const cand = await system().user("candidate");
      const voter = await system().user("voter");
      const requestId = uniqueName("req");
      const idempotencyKey = Buffer.from(uniqueName("key-bytes-of-32-characters-long!").slice(0, 32));
      const from = raw.length;
      await system().client(voter.token).votes.castVote({ ballot: { choices: [cand.id] }, idempotencyKey }, { requestId });

      const [cast] = rpcLines(requestId).filter((l) => l.method === "/voting.vote.v1.VoteService/CastVote");
      expect(cast).toMatchObject({ reqId: requestId, peer: "127.0.0.1", principal: `voter:${voter.id}`, code: Status.OK });
      // The candidate lookup it made in auth-server is logged there under the same request id, as vote-server's service account.
      expect(rpcLines(requestId).find((l) => l.method === "/voting.auth.v1.AuthService/GetUser")).toMatchObject({ principal: "service:svc-vote" });

      const written = raw.slice(from).join("");
      for (const secret of [voter.token, voter.password, idempotencyKey.toString("hex"), idempotencyKey.toString("base64")]) expect(written).not.toContain(secret);
      expect(written).not.toMatch(/"choices"|"ballot"|"authorization"/);
    });

    it("when a call fails, then the response still carries its request id", async () => {
      const admin = system().client(await system().adminToken());
      const err: ServiceError = await admin.votes.castVote({ ballot: { choices: [1] } }, { requestId: "refused-call-1" }).catch((e) => e);
      expect(err.code).toBe(Status.PERMISSION_DENIED);
      expect(err.metadata.get("x-request-id")).toEqual(["refused-call-1"]);
      expect(rpcLines("refused-call-1")[0]).toMatchObject({ principal: expect.stringMatching(/^admin:\d+$/), code: Status.PERMISSION_DENIED });
    });

    it("when a scheduled opening fails, then the cause is logged with the election", async () => {
      const admin = system().client(await system().adminToken());
      const { election } = await admin.elections.createElection({ title: uniqueName("Lonely"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["Only"], opensAt: new Date() });
      const line = await eventually(async () => lines.find((l) => l.electionId === election!.id && l.action === "open"), 5_000, "the failed opening logged");
      expect(line).toMatchObject({ level: 50, err: { message: expect.stringContaining("needs at least 2") } });
    });

    it("when a ballot commit fails, then its cause is logged and the voter gets UNAVAILABLE", async () => {
      const cand = await system().user("candidate");
      const voter = await system().user("voter");
      await sql`alter table ballots rename to ballots_away`.execute(system().db.kysely);
      try {
        await expect(system().client(voter.token).votes.castVote({ ballot: { choices: [cand.id] } })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
      } finally {
        await sql`alter table ballots_away rename to ballots`.execute(system().db.kysely);
      }
      const failed = lines.filter((l) => l.msg?.toString().startsWith("ballot commit failed")).at(-1);
      expect(failed).toMatchObject({ level: 50, electionId: 1, ballots: 1, err: { message: expect.stringMatching(/ballots/) } });
    });

    // MariaDB holds a table lock for as long as the test likes, so auth-server stays slow but up.
    it.skipIf(store === "sqlite")("when a call's deadline passes while auth-server is slow, then vote-server's call to auth-server ends with it", async () => {
      const anon = system().client();
      const late = uniqueName("late");
      const lock = await mysql.createConnection({ uri: system().databaseUrl });
      try {
        await lock.query("LOCK TABLES users WRITE");
        await expect(anon.elections.getElection({}, { deadlineMs: 300, requestId: late })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
      } finally {
        await lock.query("UNLOCK TABLES");
        await lock.end();
      }
      // The client gives up at its deadline; the server span ends a moment later.
      const served = await eventually(
        async () => finished().find((s) => s.kind === SpanKind.SERVER && s.attributes["voting.request_id"] === late && s.name === "voting.vote.v1.ElectionService/GetElection"),
        5_000,
        "the GetElection server span",
      );
      // Had it kept a fixed deadline, the lookup would now go through and end OK.
      const lookup = await eventually(async () => named(served.spanContext().traceId, SpanKind.CLIENT, "voting.auth.v1.AuthService/ListUsers"), 5_000, "the lookup span");
      expect(lookup.attributes["rpc.grpc.status_code"]).toBeOneOf([Status.DEADLINE_EXCEEDED, Status.CANCELLED]);
    });
  },
  {},
  { log },
);
