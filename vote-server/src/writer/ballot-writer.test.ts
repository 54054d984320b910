// The ballot writer thread (the built dist/writer/worker.js, so run `npx tsc -b` first) against a
// real SQLite file: receipts that check out against the log, the chain and the signed
// checkpoint, idempotent retries, refusals as domain errors, and failed commits as UNAVAILABLE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { checkChain, ed25519Verifier, electionOrigin, generateEd25519Seed, leafHash, openCheckpoint, verifyInclusion } from "@voting/election-core";
import { AlreadyExistsError, FailedPreconditionError, migrate, openDatabase, UnavailableError, type Database } from "@voting/server-kit";
import { ballotRepository } from "../db/ballot-repository.js";
import { electionRepository } from "../db/election-repository.js";
import { voteMigrations } from "../db/migrations.js";
import type { VoteDb } from "../db/schema.js";
import { defaultElection } from "../domain/elections.js";
import { openReceipt, type Receipt } from "../domain/receipts.js";
import { leafData } from "../domain/transparency-log.js";
import { ballotWriter, type BallotWriter } from "./ballot-writer.js";

const LOG_NAME = "writer.test";

describe("ballot writer thread", () => {
  let dir = "";
  let db: Database<VoteDb>;
  let writer: BallotWriter;
  const key = generateEd25519Seed();
  const appended: number[] = [];
  const failures: Error[] = [];
  const batches: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voting-writer-"));
    const databaseUrl = `sqlite:${join(dir, "vote.sqlite")}`;
    db = openDatabase<VoteDb>(databaseUrl);
    await migrate(db, "vote_migrations", voteMigrations(db.dialect));
    await electionRepository(db).ensure(defaultElection());
    writer = ballotWriter({
      databaseUrl,
      batchMax: 500,
      lingerMs: 2,
      logName: LOG_NAME,
      logKey: () => ({ kid: "k1", key }),
      onAppended: (_id, head) => appended.push(head),
      onCommitted: (batch) => batches.push(batch),
      onCommitFailed: (_id, _n, err) => failures.push(err),
    });
  });
  afterAll(async () => {
    await writer?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ballots = new Map<number, { key: Buffer; choices: number[]; receipt: Receipt }>();

  // vote-server starts the thread with the server: a first cast used to wait for the thread to
  // load its modules and open its connection, which a loaded machine turned into deadline errors.
  it.runIf(process.platform === "linux")("start() runs the thread before any cast (it names itself ballot-writer)", async () => {
    const named = async () => {
      const tasks = await readdir("/proc/self/task").catch(() => []);
      const names = await Promise.all(tasks.map((t) => readFile(`/proc/self/task/${t}/comm`, "utf8").catch(() => "")));
      return names.some((n) => n.trim() === "ballot-writer");
    };
    expect(await named()).toBe(false);
    writer.start();
    await expect.poll(named, { timeout: 10_000, interval: 20 }).toBe(true);
  });

  it("commits 300 ballots cast together in a few group commits; each receipt's entry is in the intact chain and proven by its signed checkpoint", async () => {
    const cast = Array.from({ length: 300 }, (_, i) => ({ electionId: 1, voterId: i + 1, choices: [1 + (i % 3)], idempotencyKey: randomBytes(32) }));
    const receipts = await Promise.all(cast.map((c) => writer.cast(c)));
    cast.forEach((c, i) => ballots.set(c.voterId, { key: c.idempotencyKey, choices: c.choices, receipt: receipts[i] }));
    expect(new Set(receipts.map((r) => r.seq)).size).toBe(300);
    expect(new Set(receipts.map((r) => r.trackingCode)).size).toBe(300);
    expect(batches.length).toBeLessThan(300);
    expect(Math.max(...appended)).toBe(300);

    const log = await ballotRepository(db).readLog(1, 0, 1000);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const chain = checkChain(2, { seq: 0, hash: defaultElection().genesisHash }, log.map((e) => ({ ...e, choices: e.choices.split(",").map(Number) })), { requireBallots: true });
    expect(chain).toMatchObject({ ok: true, headSeq: 300 });
    expect(new Set(log.map((e) => e.salt)).size).toBe(300);

    const verifier = ed25519Verifier(electionOrigin(LOG_NAME, 1), key.publicKey);
    for (const r of receipts) {
      const entry = log[r.seq - 1];
      expect(entry).toMatchObject({ seq: r.seq, hash: r.ballotHash, trackingCode: r.trackingCode });
      expect(r.leafIndex).toBe(r.seq - 1);
      const { checkpoint } = openCheckpoint(r.checkpoint!, { log: verifier });
      expect(r.inclusionPath!.every((h) => Buffer.isBuffer(h) && h.length === 32)).toBe(true);
      expect(verifyInclusion(r.leafIndex!, checkpoint.size, leafHash(leafData(entry)), r.inclusionPath!, checkpoint.rootHash)).toBe(true);
    }
    // Each participation's sealed receipt opens (version 2) to the receipt given.
    const rows = await db.kysely.selectFrom("participations").select(["voter_id", "sealed_receipt"]).where("election_id", "=", 1).execute();
    expect(rows).toHaveLength(300);
    for (const row of rows) {
      const b = ballots.get(Number(row.voter_id))!;
      expect(row.sealed_receipt.startsWith("2.")).toBe(true);
      const { seq, ballotHash, trackingCode } = b.receipt;
      expect(openReceipt(b.key, 1, Number(row.voter_id), row.sealed_receipt)).toEqual({ electionId: 1, seq, ballotHash, trackingCode });
    }
  });

  it("answers a retry with the same key and ballot with its receipt, and another ballot or key with ALREADY_EXISTS", async () => {
    const b = ballots.get(7)!;
    const again = await writer.cast({ electionId: 1, voterId: 7, choices: b.choices, idempotencyKey: b.key });
    expect(again).toEqual({ electionId: 1, seq: b.receipt.seq, ballotHash: b.receipt.ballotHash, trackingCode: b.receipt.trackingCode });
    const other = writer.cast({ electionId: 1, voterId: 7, choices: [b.choices[0] === 1 ? 2 : 1], idempotencyKey: b.key });
    await expect(other).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(other).rejects.toMatchObject({ reason: "ALREADY_VOTED", metadata: { electionId: "1" } });
  });

  it("when a commit fails, then its ballots are answered UNAVAILABLE, nothing of them is stored, and the next commit works", async () => {
    // A trigger makes the writer's insert fail inside its transaction.
    await sql`create trigger refuse before insert on ballots begin select raise(abort, 'refused by test'); end`.execute(db.kysely);
    const failing = writer.cast({ electionId: 1, voterId: 1001, choices: [1], idempotencyKey: randomBytes(32) });
    await expect(failing).rejects.toBeInstanceOf(UnavailableError);
    await expect(failing).rejects.toMatchObject({ reason: "BALLOT_NOT_RECORDED" });
    expect(failures.at(-1)?.message).toMatch(/refused by test/);
    await sql`drop trigger refuse`.execute(db.kysely);
    const r = await writer.cast({ electionId: 1, voterId: 1001, choices: [1], idempotencyKey: randomBytes(32) });
    expect(r.seq).toBe(301);
  });

  it("when the thread is gone, then a cast starts a new one", async () => {
    await writer.close();
    const late = writer.cast({ electionId: 1, voterId: 3001, choices: [1], idempotencyKey: randomBytes(32) });
    await expect(late).resolves.toMatchObject({ electionId: 1, seq: 302 });
  });

  it("when the election is closed, then a ballot is refused with ELECTION_NOT_OPEN", async () => {
    await electionRepository(db).transition(1, "open", "closed");
    const late = writer.cast({ electionId: 1, voterId: 2001, choices: [1], idempotencyKey: randomBytes(32) });
    await expect(late).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(late).rejects.toMatchObject({ reason: "ELECTION_NOT_OPEN" });
  });
});
