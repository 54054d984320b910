// The database fails under real servers: a private mariadbd (own datadir and port, see
// private-mariadb.ts) is stopped, SIGKILLed and restarted during a burst of ballots. Voting
// goes on: every acknowledged ballot is in the log once, nothing else is, the audit passes,
// and health says NOT_SERVING while the database is away.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { healthV1 } from "@voting/api";
import { createVotingClient, voteV1, type VotingClient } from "@voting/client";
import { eventually, startSystem, uniqueName, type System } from "./harness.js";
import { canRunMariaDb, startPrivateMariaDb, type PrivateMariaDb } from "./private-mariadb.js";
import { castBurst, expectLogMatchesReceipts, expectTallyAndAuditPass, percent, readLog, votersFor } from "./ballot-burst.js";

if (!canRunMariaDb) console.warn("\n*** database fault suite (test/db-outage.test.ts) SKIPPED: no /usr/sbin/mariadbd and mariadb-install-db ***\n");

const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function health(addr: string): Promise<number> {
  const h = new healthV1.HealthClient(addr, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => h.check({ service: "" }, { deadline: Date.now() + 2_000 }, (err, res) => (err ? reject(err) : resolve(res!.status)))).finally(() => h.close());
}

const allBecome = (sys: System, want: number, what: string) =>
  Promise.all(Object.entries(sys.addrs).map(([name, addr]) => eventually(async () => ((await health(addr)) === want ? true : undefined), 20_000, `${name}-server ${what}`)));

describe.skipIf(!canRunMariaDb)("when the database stops, crashes and restarts [private mariadbd]", () => {
  let maria: PrivateMariaDb | undefined;
  let sys: System | undefined;
  let home = "";
  const clients: VotingClient[] = [];
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "voting-db-outage-"));
    maria = await startPrivateMariaDb();
    sys = await startSystem("mysql", { DB_CHECK_EVERY_MS: "250" }, { mysqlBase: maria.url });
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await maria?.start().catch(() => undefined); // running again, so the system can drop its database
    await sys?.stop().catch(() => undefined);
    await maria?.destroy();
    await rm(home, { recursive: true, force: true });
  }, 60_000);

  it("when mariadbd is stopped, then auth-, vote- and tally-server report NOT_SERVING, and SERVING again once it is back", async () => {
    await allBecome(sys!, SERVING, "SERVING");
    await maria!.stop();
    await allBecome(sys!, NOT_SERVING, "NOT_SERVING");
    await maria!.start();
    await allBecome(sys!, SERVING, "SERVING again");
  }, 60_000);

  it("when mariadbd is stopped, SIGKILLed twice and restarted during 300 ballots, then every acknowledged ballot is in the gap-free log once, no other ballot is, the tally equals the log and the audit passes", async () => {
    const s = sys!;
    const admin = s.client(await s.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Outage"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B", "C"], resultsWhileOpen: true });
    const electionId = election!.id;
    await admin.elections.openElection({ electionId });
    const candidates = election!.candidates.map((c) => c.id);
    const users: { id: number; token: string }[] = [];
    for (let batch = 0; batch < 300; batch += 20) users.push(...(await Promise.all(Array.from({ length: 20 }, () => s.user("voter")))));
    const voters = votersFor(users, candidates);

    // Three outages, each when enough ballots are in: a clean stop, a crash, a crash restarted at once.
    const outages = [
      { at: 50, how: "stop" as const, downMs: 500 },
      { at: 140, how: "kill" as const, downMs: 500 },
      { at: 230, how: "kill" as const, downMs: 0 },
    ];
    let acks = 0;
    const chaos = (async () => {
      const timings: string[] = [];
      for (const o of outages) {
        while (acks < o.at) await sleep(10);
        const t0 = Date.now();
        await (o.how === "stop" ? maria!.stop() : maria!.kill());
        await sleep(o.downMs);
        await maria!.start();
        timings.push(`${o.how} at ${o.at} acks: down ${Date.now() - t0} ms`);
      }
      return timings;
    })();
    const started = Date.now();
    const workers = Array.from({ length: 16 }, () => createVotingClient({ voteAddr: s.addrs.vote }));
    clients.push(...workers);
    const burst = await castBurst({ voters, electionId, workers: workers.map((w) => [w]), giveUpMs: 45_000, onAck: (n) => (acks = n) });
    const burstMs = Date.now() - started;
    const timings = await chaos;
    expect(burst.errors).toEqual([]);
    expect(burst.receipts.size).toBe(300);
    const calls = workers.reduce((a, c) => ({ calls: a.calls + c.retryStats().calls, retried: a.retried + c.retryStats().retriedCalls }), { calls: 0, retried: 0 });
    console.log(
      `database outages (${timings.join("; ")}): 300 ballots in ${burstMs} ms; ${burst.retried} (${percent(burst.retried, 300)}) needed a retry, ` +
        `${burst.resent} were sent again by the voter after the client's retries; ${calls.retried} of ${calls.calls} CastVote calls retried by the client; slowest acknowledgement ${burst.slowestMs} ms`,
    );

    await admin.elections.closeElection({ electionId });
    const reader = s.client();
    const closed = (await reader.elections.getElection({ electionId })).election!;
    const entries = await readLog(reader, electionId);
    expectLogMatchesReceipts(entries, closed, voters, burst.receipts);
    expect(closed.integrityAlarms).toEqual([]);

    await expectTallyAndAuditPass(s, electionId, entries, join(home, "cfg"));
  }, 120_000);
});
