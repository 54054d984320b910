// The promise of the transparency log (issue 8), through the built `voting` binary: an operator
// who controls the database and the log's signing key rewrites an early ballot of a closed
// election and re-signs a new final checkpoint; every voter who kept a checkpoint covering the
// entry (`voting verify`), every witness (`voting witness`) and `voting audit` with the
// witnesses' keys detect it and print the two signed checkpoints.
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { voteV1 } from "@voting/client";
import { CompactRange, ed25519Signer, entryBytes, leafHash, signCheckpoint } from "@voting/election-core";
import { cliEnv, describeOnStores, eventually, runCli, uniqueName, VOTING_BIN, type System } from "./harness.js";


// The log key as a file, so the test plays the operator who holds it.
const keyDir = mkdtempSync(join(tmpdir(), "voting-logkey-"));
const { privateKey } = generateKeyPairSync("ed25519");
const LOG_SEED = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
const LOG_KEY_FILE = join(keyDir, "log-key.pem");
writeFileSync(LOG_KEY_FILE, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
const LOG_NAME = "vote.test.example";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "voting-tlog-cli-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

/** Runs the CLI as one person: each has a config directory of their own. */
const voting = (sys: System, who: string, ...args: string[]) => runCli(args, cliEnv(sys, join(home, sys.store, who)));

const sha = (...parts: (string | Buffer)[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest("hex");

/**
 * The insider's rewrite of entry `seq`: other choices, a new commitment, the hash chain after
 * it, the tree's nodes and a fresh final checkpoint signed with the real log key. Everything a
 * server can show is consistent afterwards; only what others kept can tell.
 */
async function rewrite(sys: System, id: number, seq: number) {
  const k = sys.db.kysely;
  const rows = await k.selectFrom("ballots").selectAll().where("election_id", "=", id).orderBy("seq").execute();
  let prev = seq === 1 ? (await k.selectFrom("elections").select("genesis_hash").where("id", "=", id).executeTakeFirstOrThrow()).genesis_hash : rows[seq - 2].hash;
  for (const row of rows.slice(seq - 1)) {
    const choices = Number(row.seq) === seq ? (row.choices === "1" ? "2" : "1") : row.choices;
    const commitment = sha("voting-ballot-commitment-v2\n", Buffer.from(row.salt, "hex"), `${choices}\n`);
    const hash = sha(Buffer.from(prev, "hex"), `voting-ballot-log-v2\n${id}\n${row.seq}\n${row.tracking_code}\n${commitment}\n`);
    await k.updateTable("ballots").set({ choices, commitment, hash }).where("election_id", "=", id).where("seq", "=", row.seq).execute();
    row.commitment = commitment;
    prev = hash;
  }
  await k.updateTable("elections").set({ head_hash: prev }).where("id", "=", id).execute();
  const range = new CompactRange();
  const nodes = rows.flatMap((r) => range.append(leafHash(entryBytes(2, { electionId: id, seq: Number(r.seq), trackingCode: r.tracking_code, commitment: r.commitment }))));
  await k.deleteFrom("tlog_nodes").where("election_id", "=", id).execute();
  await k.insertInto("tlog_nodes").values(nodes.map((n) => ({ election_id: id, level: n.level, idx: n.index, hash: n.hash }))).execute();
  const origin = `${LOG_NAME}/election/${id}`;
  const note = signCheckpoint({ origin, size: rows.length, rootHash: range.root(), extensions: [] }, ed25519Signer(origin, LOG_SEED));
  await k.deleteFrom("checkpoints").where("election_id", "=", id).execute();
  await k.insertInto("checkpoints").values({ election_id: id, tree_size: rows.length, note }).execute();
  return note;
}

const notesIn = (text: string) => text.match(/^[^\n]+\/election\/\d+\n\d+\n[A-Za-z0-9+/=]{44}\n\n(— [^\n]+\n)+/gm) ?? [];

describeOnStores(
  "transparency log through the CLI",
  (system) => {
    it("when an insider rewrites an early ballot of a closed election and re-signs the final checkpoint, then voters who kept a checkpoint covering it, the witness and the audit all fail with both checkpoints", async () => {
      const sys = system();
      const admin = sys.client(await sys.adminToken());
      const { election } = await admin.elections.createElection({ title: uniqueName("Tlog"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
      const id = election!.id;
      await admin.elections.openElection({ electionId: id });
      const cast = async () => {
        const v = await sys.user("voter");
        return (await sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1] } })).receipt!;
      };
      const early = [await cast(), await cast()];
      // "early" verified when the log had 2 entries: its kept checkpoint does not cover entry 3.
      const e = await voting(sys, "early", "verify", early[1].trackingCode, "--json");
      expect(e.stderr).toBe("");
      expect(JSON.parse(e.stdout)).toMatchObject({ seq: 2, treeSize: 2, checkpointsChecked: 0 });

      // "alice" votes through the CLI: her receipt carries the first checkpoint that includes her ballot.
      const alice = await sys.user("voter");
      expect((await voting(sys, "alice", "login", alice.username, alice.password)).code).toBe(0);
      const voted = await voting(sys, "alice", "vote", "--election", String(id), "1", "--json");
      expect(voted.stderr).toBe("");
      const receipt = JSON.parse(voted.stdout);
      expect(receipt).toMatchObject({ seq: 3, leafIndex: 2 });
      expect(receipt.checkpoint).toMatch(new RegExp(`^${LOG_NAME}/election/${id}\n3\n`));
      const kept = (await readFile(join(home, sys.store, "alice", "checkpoints", encodeURIComponent(`${LOG_NAME}/election/${id}`), "checkpoints.jsonl"), "utf8")).trim().split("\n");
      expect(kept.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ size: 3, source: "receipt", note: receipt.checkpoint })]);

      // A witness follows the election while it is open and after it closes.
      const witnessDir = join(home, sys.store, "witness-dir");
      const keyFile = join(home, sys.store, "witness.key");
      const w1 = await voting(sys, "witness", "witness", "--election", String(id), "--key", keyFile, "--name", "w1.test", "--dir", witnessDir, "--count", "1", "--json");
      expect(w1.code).toBe(0);
      const events = w1.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const vkey: string = events[0].vkey;
      expect(vkey).toMatch(/^w1\.test\+[0-9a-f]{8}\+/);
      expect(events[1]).toMatchObject({ event: "cosigned", size: 3 });
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

      const bob = await cast();
      for (let i = 0; i < 5; i++) await cast();
      // bob verifies while it is open: consistency from nothing kept, inclusion in the latest.
      const b = await voting(sys, "bob", "verify", bob.trackingCode, "--json");
      expect(b.stderr).toBe("");
      expect(JSON.parse(b.stdout)).toMatchObject({ seq: 4, treeSize: 9 });
      await admin.elections.closeElection({ electionId: id });
      await eventually(async () => ((await sys.client().tally.getResults({ electionId: id })).result!.final ? true : undefined));

      const w2 = await voting(sys, "witness", "witness", "--election", String(id), "--key", keyFile, "--dir", witnessDir, "--count", "1", "--json");
      expect(w2.stderr).toBe("");
      expect(w2.code).toBe(0);
      expect(JSON.parse(w2.stdout.trim().split("\n")[1])).toMatchObject({ event: "cosigned", size: 9, from: 3 });

      // Alice checks after the close: consistency from her receipt's checkpoint, inclusion, few bytes.
      const a = await voting(sys, "alice", "verify", receipt.trackingCode, "--json");
      expect(a.stderr).toBe("");
      const report = JSON.parse(a.stdout);
      expect(report).toMatchObject({ seq: 3, treeSize: 9, checkpointsChecked: 1, matchesSavedReceipt: true });
      expect(report.bytesDownloaded).toBeLessThan(4096);

      // The honest audit: the final checkpoint's root is the recomputed one, and the witness cosigned it.
      const honest = await voting(sys, "auditor", "audit", "--election", String(id), "--witness-key", vkey, "--witness-dir", witnessDir, "--min-cosignatures", "1", "--json");
      expect(honest.stderr).toBe("");
      expect(JSON.parse(honest.stdout)).toMatchObject({ ok: true, checkpoint: { size: 9, cosignedBy: [expect.stringMatching(/^w1\.test\+/)], required: 1 } });
      const tooMany = await voting(sys, "auditor", "audit", "--election", String(id), "--witness-key", vkey, "--witness-dir", witnessDir, "--min-cosignatures", "2");
      expect(tooMany.code).toBe(1);
      expect(tooMany.stderr).toMatch(/has 1 valid cosignature by the given witnesses, 2 required/);

      // The insider rewrites entry 3 (alice's) and signs a new final checkpoint with the real key.
      const forged = await rewrite(sys, id, 3);

      const av = await voting(sys, "alice", "verify", receipt.trackingCode);
      expect(av.code).toBe(1);
      // Her receipt's checkpoint (size 3) comes first: no consistency proof to the forged tree exists.
      expect(av.stderr).toMatch(/^voting: the consistency proof from size 3 to size 9 of .* does not verify: the log was rewritten; both signed checkpoints are printed above/);
      expect(notesIn(av.stdout)).toHaveLength(2);
      expect(av.stdout).toContain(forged);

      // bob's kept checkpoint (size 9) covers entry 3 too.
      const bv = await voting(sys, "bob", "verify", bob.trackingCode, "--json");
      expect(bv.code).toBe(1);
      const evidence = JSON.parse(bv.stdout);
      expect(evidence).toMatchObject({ ok: false, servedCheckpoint: forged });
      expect(evidence.keptCheckpoint).toMatch(new RegExp(`^${LOG_NAME}/election/${id}\n9\n`));
      expect(evidence.reason).toMatch(/have size 9 but different roots/);

      // "early" kept only the tree of 2 entries, which the rewrite left alone: no false alarm.
      const ev = await voting(sys, "early", "verify", early[1].trackingCode, "--json");
      expect(ev.stderr).toBe("");
      expect(JSON.parse(ev.stdout)).toMatchObject({ treeSize: 9, checkpointsChecked: 1 });

      const w3 = await voting(sys, "witness", "witness", "--election", String(id), "--key", keyFile, "--dir", witnessDir, "--count", "1");
      expect(w3.code).toBe(1);
      expect(w3.stderr).toMatch(/different roots; both signed checkpoints are printed above/);
      expect(notesIn(w3.stdout)).toHaveLength(2);
      const originDir = join(witnessDir, encodeURIComponent(`${LOG_NAME}/election/${id}`));
      const [saved] = await readdir(join(originDir, "evidence"));
      expect(await readFile(join(originDir, "evidence", saved, "served.note"), "utf8")).toBe(forged);
      // It did not cosign the forgery: its latest cosigned checkpoint is still the honest one.
      expect(await readFile(join(originDir, "checkpoint"), "utf8")).not.toContain(forged.split("\n\n")[0]);

      const audit = await voting(sys, "auditor", "audit", "--election", String(id), "--witness-key", vkey, "--witness-dir", witnessDir, "--min-cosignatures", "1");
      expect(audit.code).toBe(1);
      expect(audit.stderr).toMatch(/is not a prefix of the log the final checkpoint signs: the log was rewritten/);
      expect(notesIn(audit.stdout)).toHaveLength(2);
      // An auditor who kept nothing and asks for no witness still sees the signed result statement disagree.
      const fresh = await voting(sys, "fresh-auditor", "audit", "--election", String(id));
      expect(fresh.code).toBe(1);
      expect(fresh.stderr).toMatch(/differs from the recount|published result's log head/);
    });

    it("when a witness directory is served over HTTP, then audit collects the cosigned final checkpoint from the URL", async () => {
      const sys = system();
      const admin = sys.client(await sys.adminToken());
      const { election } = await admin.elections.createElection({ title: uniqueName("Tlog"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
      const id = election!.id;
      await admin.elections.openElection({ electionId: id });
      for (let i = 0; i < 3; i++) {
        const v = await sys.user("voter");
        await sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + (i % 2)] } });
      }
      await admin.elections.closeElection({ electionId: id });
      await eventually(async () => ((await sys.client().tally.getResults({ electionId: id })).result!.final ? true : undefined));
      const dir = join(home, sys.store, "served-dir");
      const w = await voting(sys, "served", "witness", "--election", String(id), "--key", join(home, sys.store, "served.key"), "--name", "w2.test", "--dir", dir, "--count", "1", "--json");
      expect(w.code).toBe(0);
      const vkey = JSON.parse(w.stdout.split("\n")[0]).vkey;
      const env = { ...process.env, VOTING_CONFIG_DIR: join(home, sys.store, "served") };
      const server = spawn(process.execPath, [VOTING_BIN, "witness", "serve", "--dir", dir, "--port", "0", "--json"], { env });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          server.stdout.once("data", (d) => resolve(JSON.parse(String(d)).url));
          server.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
        });
        const r = await voting(sys, "auditor2", "audit", "--election", String(id), "--witness-key", vkey, "--witness-url", url, "--json");
        expect(r.stderr).toBe("");
        expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, checkpoint: { size: 3, required: 1, cosignedBy: [expect.stringMatching(/^w2\.test\+/)] } });
        const none = await voting(sys, "auditor3", "audit", "--election", String(id), "--witness-key", vkey);
        expect(none.code).toBe(1);
        expect(none.stderr).toMatch(/has 0 valid cosignatures by the given witnesses, 1 required/);
      } finally {
        server.kill("SIGTERM");
      }
    });
  },
  { VOTE_LOG_KEY_FILE: LOG_KEY_FILE, VOTE_LOG_NAME: LOG_NAME },
);
