// The cluster fault test (`npm run test:cluster`, not part of `npm test`: starting three Galera
// nodes with rsync state transfers takes minutes). Two vote-server replicas write through two
// nodes of a three-node MariaDB Galera cluster (scripts/galera-cluster.sh) while one of those
// nodes is SIGKILLed and rejoins; voters whose replica fails send their ballot again, with the
// same key, through the other. Every acknowledged ballot is in the log once, nothing else is,
// both replicas read the same log, the tally equals it and the audit passes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { healthV1 } from "@voting/api";
import { createVotingClient, voteV1, type VotingClient } from "@voting/client";
import { createLogger } from "@voting/server-kit";
import { readVoteConfig, startVoteServer, type RunningVoteServer } from "@voting/vote-server";
import { eventually, startSystem, uniqueName, type System } from "../harness.js";
import { canRunMariaDb } from "../private-mariadb.js";
import { castBurst, expectLogMatchesReceipts, expectTallyAndAuditPass, percent, readLog, votersFor } from "../ballot-burst.js";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../../scripts/galera-cluster.sh", import.meta.url));
const canRunGalera = canRunMariaDb && (await import("node:fs")).existsSync(process.env.GALERA_PROVIDER ?? "/usr/lib/galera/libgalera_smm.so");
if (!canRunGalera) console.warn("\n*** Galera cluster test SKIPPED: needs /usr/sbin/mariadbd and galera-4 (/usr/lib/galera/libgalera_smm.so) ***\n");

const basePort = Number(process.env.GALERA_BASE_PORT ?? 23300 + 40 * (process.pid % 50));
const galera = (...args: string[]) => run(script, args, { maxBuffer: 4 * 1024 * 1024 });
const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function health(addr: string): Promise<number> {
  const h = new healthV1.HealthClient(addr, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => h.check({ service: "" }, { deadline: Date.now() + 2_000 }, (err, res) => (err ? reject(err) : resolve(res!.status)))).finally(() => h.close());
}

describe.skipIf(!canRunGalera)("two vote-server replicas on a three-node Galera cluster, one node killed and rejoined", () => {
  let dir = "";
  let sys: System | undefined;
  let replica: RunningVoteServer | undefined;
  const clients: VotingClient[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voting-galera-"));
    await chmod(dir, 0o755); // mariadbd runs as mysql when the test runs as root
    await galera("start", join(dir, "cluster"), String(basePort));
    sys = await startSystem("mysql", { DB_CHECK_EVERY_MS: "250" }, { mysqlBase: `mysql://root@127.0.0.1:${basePort + 1}` });
    const url = new URL(sys.databaseUrl);
    url.port = String(basePort + 2);
    replica = await startVoteServer(readVoteConfig({ ...sys.env, DATABASE_URL: url.toString(), VOTE_PORT: "0" }), createLogger("replica", "silent"));
  }, 600_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await replica?.stop().catch(() => undefined);
    await sys?.stop().catch(() => undefined);
    await galera("stop", join(dir, "cluster")).catch((err: Error) => console.error(`stopping the cluster: ${err.message}`));
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("when node 2 is SIGKILLed under 300 ballots and rejoins, then every acknowledged ballot is in the gap-free log once on both replicas, no other ballot is, the tally equals the log and the audit passes", async () => {
    const s = sys!;
    const voteB = `127.0.0.1:${replica!.port}`;
    const admin = s.client(await s.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Galera"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B", "C"], resultsWhileOpen: true });
    const electionId = election!.id;
    await admin.elections.openElection({ electionId });
    const users: { id: number; token: string }[] = [];
    for (let batch = 0; batch < 300; batch += 20) users.push(...(await Promise.all(Array.from({ length: 20 }, () => s.user("voter")))));
    const voters = votersFor(users, election!.candidates.map((c) => c.id));

    let acks = 0;
    const timeline: string[] = [];
    const chaos = (async () => {
      while (acks < 80) await sleep(10);
      const t0 = Date.now();
      await galera("kill", join(dir, "cluster"), "2");
      timeline.push(`node 2 killed at ${acks} acks`);
      await eventually(async () => ((await health(voteB)) === NOT_SERVING ? true : undefined), 20_000, "replica on node 2 NOT_SERVING");
      timeline.push(`replica B NOT_SERVING after ${Date.now() - t0} ms`);
      await galera("rejoin", join(dir, "cluster"), "2");
      timeline.push(`node 2 Synced again after ${Date.now() - t0} ms`);
      await eventually(async () => ((await health(voteB)) === SERVING ? true : undefined), 20_000, "replica on node 2 SERVING");
    })();
    // Half the workers send to replica A (node 1) first, half to replica B (node 2).
    const workers = Array.from({ length: 16 }, (_, k) => {
      const pair = [createVotingClient({ voteAddr: s.addrs.vote }), createVotingClient({ voteAddr: voteB })];
      clients.push(...pair);
      return k % 2 === 0 ? pair : pair.reverse();
    });
    const started = Date.now();
    const burst = await castBurst({ voters, electionId, workers, giveUpMs: 120_000, onAck: (n) => (acks = n) });
    const burstMs = Date.now() - started;
    await chaos;
    expect(burst.errors).toEqual([]);
    expect(burst.receipts.size).toBe(300);
    console.log(
      `galera (${timeline.join("; ")}): 300 ballots through two writer nodes in ${burstMs} ms; ${burst.retried} (${percent(burst.retried, 300)}) needed a retry, ` +
        `${burst.resent} were sent again through the other replica; slowest acknowledgement ${burst.slowestMs} ms`,
    );

    await admin.elections.closeElection({ electionId });
    const readerA = s.client();
    const readerB = createVotingClient({ voteAddr: voteB, waitForReady: true });
    clients.push(readerB);
    const closed = (await readerA.elections.getElection({ electionId })).election!;
    const entries = await readLog(readerA, electionId);
    expectLogMatchesReceipts(entries, closed, voters, burst.receipts);
    // The rejoined node serves the same log.
    expect(await readLog(readerB, electionId)).toEqual(entries);

    await expectTallyAndAuditPass(s, electionId, entries, join(dir, "cli"));
  }, 600_000);
});
