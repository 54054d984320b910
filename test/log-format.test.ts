// A database from before log format 2: its elections keep format 1 and still verify, new
// elections and drafts get format 2, on both stores.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { checkChain, chainHash, genesisHash, parseChoicesKey } from "@voting/election-core";
import { migrate, openDatabase, type Database } from "@voting/server-kit";
import { voteMigrations } from "../vote-server/src/db/migrations.js";
import { ballotRepository } from "../vote-server/src/db/ballot-repository.js";
import { electionRepository } from "../vote-server/src/db/election-repository.js";
import { ballotBox } from "../vote-server/src/domain/ballot-box.js";
import { toProtoEntry } from "../vote-server/src/rpc/mapping.js";
import { mysqlServerUrl, stores, type Store } from "./harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function freshDatabase(store: Store): Promise<Database<any> | undefined> {
  if (store === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "voting-format-"));
    const db = openDatabase<any>(`sqlite:${join(dir, "voting.sqlite")}`);
    cleanups.push(async () => (await db.close(), await rm(dir, { recursive: true, force: true })));
    return db;
  }
  const base = await mysqlServerUrl();
  if (!base) return undefined;
  const name = `voting_format_${randomBytes(6).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: base });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const db = openDatabase<any>(`${base}/${name}`);
  cleanups.push(async () => {
    await db.close();
    const c = await mysql.createConnection({ uri: base });
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  });
  return db;
}

const legacy = { id: 1, title: "General election", method: "plurality", seats: 1, candidateSource: "registered_users", candidates: [] };

for (const store of stores) {
  describe(`log format of existing elections [${store}]`, () => {
    it("when a database from before format 2 is migrated, then its open election keeps format 1 and verifies, and drafts and new elections use format 2", async () => {
      const db = await freshDatabase(store);
      if (!db) return;
      const all = voteMigrations(db.dialect);
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < "0003"));
      await migrate(db, "vote_migrations", before);
      // The rows an older vote-server wrote: a format 1 log of three ballots and a draft.
      const genesis = genesisHash(1, legacy);
      let hash = genesis;
      const base = { description: "", seats: 1, created_at: 0, results_while_open: 1, has_voter_roll: 0 };
      const ballots = [];
      for (let seq = 1; seq <= 3; seq++) {
        const trackingCode = `${"0".repeat(25)}${seq}`;
        hash = chainHash(1, hash, { electionId: 1, seq, trackingCode, commitment: "", choices: [7] });
        ballots.push({ election_id: 1, seq, tracking_code: trackingCode, choices: "7", hash });
      }
      await db.kysely
        .insertInto("elections")
        .values([
          { ...base, id: 1, title: legacy.title, method: "plurality", state: "open", candidate_source: "registered_users", genesis_hash: genesis, head_seq: 3, head_hash: hash },
          { ...base, id: 2, title: "Drafted before", method: "irv", state: "draft", candidate_source: "list", genesis_hash: "", head_seq: 0, head_hash: "" },
        ])
        .execute();
      await db.kysely.insertInto("ballots").values(ballots).execute();

      await migrate(db, "vote_migrations", all);
      const elections = electionRepository(db);
      const repo = ballotRepository(db);
      expect((await elections.get(1))!.logFormat).toBe(1);
      expect((await elections.get(2))!.logFormat).toBe(2);
      const created = await elections.create({ title: "New", description: "", method: "approval", seats: 1, candidates: ["A", "B"], resultsWhileOpen: false, voterRoll: [] });
      expect(created.logFormat).toBe(2);

      // The old election goes on in format 1: its chain continues and verifies from its genesis.
      const box = ballotBox(repo, { batchMax: 10, lingerMs: 0, onAppended() {} });
      await box.cast({ electionId: 1, voterId: 42, choices: [8], idempotencyKey: randomBytes(32) });
      const rows = await repo.readLog(1, 0, 100);
      expect(rows.map((r) => [r.commitment, r.salt])).toEqual(Array.from({ length: 4 }, () => ["", ""]));
      const entries = rows.map((r) => ({ ...r, choices: parseChoicesKey(r.choices) }));
      expect(checkChain(1, { seq: 0, hash: genesis }, entries)).toEqual({ ok: true, headSeq: 4, headHash: (await elections.get(1))!.headHash, sealed: 0 });
      expect(toProtoEntry(rows[0])).toMatchObject({ commitment: "", salt: "", ballot: { choices: [7] }, hash: rows[0].hash });
      // Sealed, a format 1 entry's hash and tracking code would give its ballot away to a brute force.
      expect(toProtoEntry(rows[0], true)).toEqual({ electionId: 1, seq: 1, trackingCode: "", ballot: undefined, hash: "", commitment: "", salt: "" });
    });
  });
}
