// Counted as recorded: `voting verify` and `voting audit` through the real binary, the signed
// final statement, reconciliation, and tampering with the store caught at the right place.
import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { voteV1 } from "@voting/client";
import { cliEnv, describeOnStores, runCli, eventually, uniqueName, type System } from "./harness.js";
import * as grpc from "@grpc/grpc-js";
import { healthV1 } from "@voting/api";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "voting-audit-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const voting = (sys: System, ...args: string[]) => runCli(args, cliEnv(sys, join(home, "cfg", sys.store)));

/** A closed IRV election with 12 ballots, counted to the end. */
async function closedElection(sys: System, resultsWhileOpen = true) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Audit"), method: voteV1.BallotMethod.BALLOT_METHOD_IRV, candidates: ["A", "B", "C"], resultsWhileOpen });
  const id = election!.id;
  await admin.elections.openElection({ electionId: id });
  const voters = await Promise.all(Array.from({ length: 12 }, () => sys.user("voter")));
  const receipts = await Promise.all(voters.map((v, i) => sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + (i % 3), 1 + ((i + 1) % 3)] } })));
  await admin.elections.closeElection({ electionId: id });
  await eventually(async () => ((await sys.client().tally.getResults({ electionId: id })).result!.final ? true : undefined));
  return { id, receipts: receipts.map((r) => r.receipt!) };
}

const ballots = (sys: System) => sys.db.kysely.updateTable("ballots");

function healthOf(addr: string): Promise<number> {
  const health = new healthV1.HealthClient(addr, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => health.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res!.status)))).finally(() => health.close());
}

describeOnStores(
  "audit and tamper evidence",
  (system) => {
    it("when an intact closed election is audited, then the chain, turnout, recount and signed statement all check out", async () => {
      const sys = system();
      const { id, receipts } = await closedElection(sys);
      const out = join(home, `log-${id}.jsonl`);
      const r = await voting(sys, "audit", "--election", String(id), "--out", out, "--json");
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ electionId: id, ballots: 12, turnout: 12, final: true, statement: "signature valid, matches the recount", ok: true });
      const lines = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      // Each line opens its own commitment, with nothing but SHA-256 (docs/ballot-log.md).
      for (const l of lines) {
        expect(Object.keys(l)).toEqual(["electionId", "seq", "trackingCode", "commitment", "choices", "salt", "hash"]);
        const opened = createHash("sha256").update("voting-ballot-commitment-v2\n").update(Buffer.from(l.salt, "hex")).update(`${l.choices.join(",")}\n`).digest("hex");
        expect(opened).toBe(l.commitment);
      }

      const v = await voting(sys, "verify", receipts[3].trackingCode, "--full");
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(new RegExp(`at seq ${receipts[3].seq}`));
      expect(v.stdout).toMatch(/hash chain from the start to the head \(seq 12, [0-9a-f]{64}\) is intact/);
    });

    it("when an election embargoed while open has closed, then audit opens every commitment, recomputes every hash and recounts", async () => {
      const sys = system();
      const { id } = await closedElection(sys, false);
      const r = await voting(sys, "audit", "--election", String(id), "--json");
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ electionId: id, logFormat: 2, ballots: 12, final: true, statement: "signature valid, matches the recount", ok: true });
    });

    it("when a ballot's choices are altered in the database, then audit fails at that seq: they no longer open its commitment", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      const row = await sys.db.kysely.selectFrom("ballots").selectAll().where("election_id", "=", id).where("seq", "=", 5).executeTakeFirstOrThrow();
      await ballots(sys).set({ choices: row.choices === "3,2" ? "2,3" : "3,2" }).where("election_id", "=", id).where("seq", "=", 5).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^voting: ballot log of election ${id} fails at seq 5: the ballot of entry 5 does not open its commitment`));
    });

    it("when a ballot's salt is altered in the database, then audit fails at that seq, whether the salt is another valid one or not lower-case hex", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      const row = await sys.db.kysely.selectFrom("ballots").selectAll().where("election_id", "=", id).where("seq", "=", 9).executeTakeFirstOrThrow();
      const other = (row.salt[0] === "0" ? "1" : "0") + row.salt.slice(1);
      await ballots(sys).set({ salt: other }).where("election_id", "=", id).where("seq", "=", 9).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^voting: ballot log of election ${id} fails at seq 9: the ballot of entry 9 does not open its commitment`));
      await ballots(sys).set({ salt: row.salt.toUpperCase() === row.salt ? `${row.salt.slice(1)}g` : row.salt.toUpperCase() }).where("election_id", "=", id).where("seq", "=", 9).execute();
      const upper = await voting(sys, "audit", "--election", String(id));
      expect(upper.code).toBe(1);
      expect(upper.stderr).toMatch(new RegExp(`fails at seq 9: the ballot of entry 9 comes without a valid salt`));
    });

    it("when an insider alters a ballot and recomputes its commitment and the chain after it, then audit fails on the published head and on the signed checkpoint's root, and the voter's receipt no longer matches", async () => {
      const sys = system();
      const { id, receipts } = await closedElection(sys);
      const rows = await sys.db.kysely.selectFrom("ballots").selectAll().where("election_id", "=", id).orderBy("seq").execute();
      const sha = (...parts: (string | Buffer)[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest("hex");
      let prev = rows[3].hash;
      for (const row of rows.slice(4)) {
        const choices = Number(row.seq) === 5 ? (row.choices === "3,2" ? "2,3" : "3,2") : row.choices;
        const commitment = sha("voting-ballot-commitment-v2\n", Buffer.from(row.salt, "hex"), `${choices}\n`);
        const hash = sha(Buffer.from(prev, "hex"), `voting-ballot-log-v2\n${id}\n${row.seq}\n${row.tracking_code}\n${commitment}\n`);
        await ballots(sys).set({ choices, commitment, hash }).where("election_id", "=", id).where("seq", "=", row.seq).execute();
        prev = hash;
      }
      await sys.db.kysely.updateTable("elections").set({ head_hash: prev }).where("id", "=", id).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the published result's log head at seq 12 is [0-9a-f]{64}, the log's is/);
      // The insider did not re-sign the transparency log: its final checkpoint names the old root.
      expect(r.stderr).toMatch(/the signed checkpoint of .* \(size 12\) has root .*, but the log's entries give /);
      const fifth = receipts.find((x) => x.seq === 5)!;
      const { entry } = await sys.client().votes.getReceipt({ trackingCode: fifth.trackingCode });
      expect(entry!.hash).not.toBe(fifth.ballotHash);
    });

    it("when a ballot row is deleted, then audit fails at that seq", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      await sys.db.kysely.deleteFrom("ballots").where("election_id", "=", id).where("seq", "=", 7).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`fails at seq 7: entry 7 is missing`));
    });

    it("when two ballot rows are swapped, then audit fails at the first of them", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      await ballots(sys).set({ seq: 1_000_000 }).where("election_id", "=", id).where("seq", "=", 3).execute();
      await ballots(sys).set({ seq: 3 }).where("election_id", "=", id).where("seq", "=", 4).execute();
      await ballots(sys).set({ seq: 4 }).where("election_id", "=", id).where("seq", "=", 1_000_000).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/fails at seq 3: hash of entry 3/);
    });

    it("when a ballot is inserted straight into the database, then audit fails and that election shows the reconciliation alarm, while health stays SERVING and another election takes ballots", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      const last = await sys.db.kysely.selectFrom("ballots").selectAll().where("election_id", "=", id).where("seq", "=", 12).executeTakeFirstOrThrow();
      await sys.db.kysely.insertInto("ballots").values({ election_id: id, seq: 13, tracking_code: "0".repeat(26), choices: "1", hash: last.hash, commitment: last.commitment, salt: last.salt }).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/fails at seq 13/);

      const reader = sys.client();
      const alarms = await eventually(async () => {
        const { election } = await reader.elections.getElection({ electionId: id });
        return election!.integrityAlarms.length > 0 ? election!.integrityAlarms : undefined;
      }, 5_000, "reconciliation alarm");
      expect(alarms).toEqual([expect.stringMatching(/^reconciliation: the log holds 13 ballots up to seq 13, the head is at seq 12 and 12 voters are recorded as having voted/)]);
      const listed = (await reader.elections.listElections({ pageSize: 500 })).elections.find((e) => e.id === id);
      expect(listed!.integrityAlarms).toEqual(alarms);
      const shown = await voting(sys, "election", "show", String(id));
      expect(shown.stdout).toContain(`INTEGRITY ALARM: ${alarms[0]}`);
      expect(await healthOf(sys.addrs.vote)).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);
      // Another election goes on: it takes a ballot and shows no alarm.
      const admin = sys.client(await sys.adminToken());
      const { election: other } = await admin.elections.createElection({ title: uniqueName("Unaffected"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
      await admin.elections.openElection({ electionId: other!.id });
      const voter = await sys.user("voter");
      await expect(sys.client(voter.token).votes.castVote({ electionId: other!.id, ballot: { choices: [1] } })).resolves.toMatchObject({ receipt: { seq: 1 } });
      expect((await reader.elections.getElection({ electionId: other!.id })).election!.integrityAlarms).toEqual([]);

      await sys.db.kysely.deleteFrom("ballots").where("election_id", "=", id).where("seq", "=", 13).execute(); // leave the shared system healthy
      await eventually(async () => ((await reader.elections.getElection({ electionId: id })).election!.integrityAlarms.length === 0 ? true : undefined), 5_000, "alarm cleared");
    });

    it("when a voter's participation is inserted without a ballot, then audit names the turnout mismatch", async () => {
      const sys = system();
      const { id } = await closedElection(sys);
      await sys.db.kysely.insertInto("participations").values({ election_id: id, voter_id: 999_999, commitment: "0".repeat(64), sealed_receipt: "x" }).execute();
      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`election ${id}: 13 voters are recorded as having voted but the log holds 12 ballots`));
      await sys.db.kysely.deleteFrom("participations").where("election_id", "=", id).where("voter_id", "=", 999_999).execute();
    });

    it("when a tracking code is verified while the log is sealed, then it is found and the chain checked over the commitments, and the openings wait for the close", async () => {
      const sys = system();
      const admin = sys.client(await sys.adminToken());
      const { election } = await admin.elections.createElection({ title: uniqueName("Sealed"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
      await admin.elections.openElection({ electionId: election!.id });
      const v = await sys.user("voter");
      const { receipt } = await sys.client(v.token).votes.castVote({ electionId: election!.id, ballot: { choices: [1] } });
      const r = await voting(sys, "verify", receipt!.trackingCode, "--full");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/hash chain from the start to the head \(seq 1, [0-9a-f]{64}\) is intact/);
      expect(r.stdout).toMatch(/sealed until the election closes/);
      const a = await voting(sys, "audit", "--election", String(election!.id));
      expect(a).toMatchObject({ code: 1 });
      expect(a.stderr).toMatch(/audit it after the close/);
    });
  },
  { VOTE_RECONCILE_EVERY_MS: "200" },
);
