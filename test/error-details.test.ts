// Errors carry google.rpc details in the grpc-status-details-bin trailer (docs/errors.md): an
// ErrorInfo reason always, BadRequest naming the field at fault, RetryInfo where a retry helps.
import { afterAll, describe, expect, it } from "vitest";
import BetterSqlite3 from "better-sqlite3";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ERROR_DOMAIN, errorDetails, Status, voteV1, createVotingClient } from "@voting/client";
import { createLogger } from "@voting/server-kit";
import { readVoteConfig, startVoteServer } from "@voting/vote-server";
import { describeOnStores } from "./harness.js";
import { proxyFrom } from "./proxy.js";

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable("the call should have been refused"),
    (err: unknown) => err as Error & { code: Status; details: string },
  );

describeOnStores("error details", (sys, store) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it("when a request field is invalid, then INVALID_ARGUMENT carries BadRequest naming that field and an ErrorInfo reason", async () => {
    const admin = sys().client(await sys().adminToken());
    const err = await refusal(
      admin.elections.createElection({ title: "Seats", method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, seats: 101, candidates: ["A", "B"] }),
    );
    expect(err).toMatchObject({ code: Status.INVALID_ARGUMENT, details: "seats must be 1 to 100" });
    expect(errorDetails(err)).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      reason: "INVALID_ARGUMENT",
      domain: ERROR_DOMAIN,
      fieldViolations: [{ field: "seats", description: "seats must be 1 to 100" }],
    });
    expect(errorDetails(err)?.retryDelayMs).toBeUndefined();

    const voter = await sys().user("voter");
    const short = await refusal(sys().client(voter.token).votes.castVote({ ballot: { choices: [1] }, idempotencyKey: Buffer.alloc(5) }));
    expect(errorDetails(short)?.fieldViolations).toEqual([{ field: "idempotency_key", description: "idempotency_key must be 16 to 64 bytes" }]);
    const name = await refusal(sys().client().auth.register({ username: "a b", password: "long enough pw", role: 1 }));
    expect(errorDetails(name)).toMatchObject({ reason: "INVALID_USERNAME", fieldViolations: [{ field: "username" }] });
  });

  it("when a voter votes a second, different ballot, then ALREADY_EXISTS carries reason ALREADY_VOTED and the election", async () => {
    const voter = await sys().user("voter");
    const [a, b] = [await sys().user("candidate"), await sys().user("candidate")];
    const client = sys().client(voter.token);
    await client.votes.castVote({ ballot: { choices: [a.id] } });
    const err = await refusal(client.votes.castVote({ ballot: { choices: [b.id] } }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
    expect(errorDetails(err)).toMatchObject({ reason: "ALREADY_VOTED", domain: ERROR_DOMAIN, metadata: { electionId: "1" }, fieldViolations: [] });
  });

  it("when a call lacks what the access table asks, then the interceptor's refusals carry reasons too", async () => {
    const none = await refusal(sys().client().votes.castVote({ ballot: { choices: [1] } }));
    expect(none.code).toBe(Status.UNAUTHENTICATED);
    expect(errorDetails(none)?.reason).toBe("TOKEN_REQUIRED");
    const voter = await sys().user("voter");
    const role = await refusal(sys().client(voter.token).elections.createElection({ title: "No" }));
    expect(role.code).toBe(Status.PERMISSION_DENIED);
    expect(errorDetails(role)).toMatchObject({ reason: "ROLE_NOT_ALLOWED", metadata: { role: "voter", method: "CreateElection" } });
  });

  it("when the database cannot be reached, then UNAVAILABLE carries DATABASE_UNAVAILABLE and a RetryInfo delay", async () => {
    const admin = await sys().adminToken();
    let voteAddr = sys().addrs.vote;
    if (store === "sqlite") {
      // Another process holding the write lock past the busy wait: the file cannot be written.
      const file = new BetterSqlite3(sys().databaseUrl.slice("sqlite:".length));
      file.exec("BEGIN EXCLUSIVE");
      cleanups.push(async () => (file.exec("ROLLBACK"), file.close()));
    } else {
      // A replica whose only way to the database is a proxy that is then cut.
      const url = new URL(sys().databaseUrl);
      const proxy = await proxyFrom("127.0.0.1", `${url.hostname}:${url.port || 3306}`);
      url.host = proxy.addr;
      const replica = await startVoteServer(readVoteConfig({ ...sys().env, DATABASE_URL: url.toString(), VOTE_PORT: "0" }), createLogger("test", "silent"));
      cleanups.push(() => replica.stop());
      voteAddr = `127.0.0.1:${replica.port}`;
      await proxy.close();
    }
    const client = createVotingClient({ authAddr: sys().addrs.auth, voteAddr, token: admin });
    cleanups.push(async () => client.close());
    const err = await refusal(
      client.elections.createElection({ title: "Outage", method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, seats: 1, candidates: ["A", "B"] }, { deadlineMs: 30_000 }),
    );
    expect(err).toMatchObject({ code: Status.UNAVAILABLE, details: "the database cannot be reached; retry" });
    expect(errorDetails(err)).toMatchObject({ reason: "DATABASE_UNAVAILABLE", domain: ERROR_DOMAIN, retryDelayMs: 1_000 });
  });
});

describe("docs/errors.md", () => {
  it("when a server names a reason, then docs/errors.md lists it with its code", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const doc = readFileSync(join(root, "docs", "errors.md"), "utf8");
    const reasons = new Set(["INVALID_ARGUMENT"]); // the default of InvalidArgumentError without a reason
    for (const pkg of ["server-kit", "auth-server", "vote-server", "tally-server"]) {
      for (const f of readdirSync(join(root, pkg, "src"), { recursive: true, withFileTypes: true })) {
        if (!f.isFile() || !f.name.endsWith(".ts") || f.name.endsWith(".test.ts")) continue;
        for (const m of readFileSync(join(f.parentPath, f.name), "utf8").matchAll(/reason: "([A-Z_]+)"/g)) reasons.add(m[1]);
      }
    }
    expect(reasons.size).toBeGreaterThan(30);
    const undocumented = [...reasons].filter((r) => !new RegExp(`^\\| \`${r}\` \\| [A-Z_, ]+ \\|`, "m").test(doc));
    expect(undocumented).toEqual([]);
  });
});
