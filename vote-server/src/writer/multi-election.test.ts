// Group commit across elections, through the writer thread (the built dist/, so run `npx tsc -b`
// first) against a real SQLite file: ballots of several elections cast together share one
// transaction, each election keeps its own chain and checkpoint, a closed election among them is
// refused alone, and a failed transaction stores nothing for any of them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { checkChain, ed25519Verifier, electionOrigin, generateEd25519Seed, leafHash, openCheckpoint, verifyInclusion } from "@voting/election-core";
import { FailedPreconditionError, migrate, openDatabase, UnavailableError, type Database } from "@voting/server-kit";
import { ballotRepository } from "../db/ballot-repository.js";
import { electionRepository } from "../db/election-repository.js";
import { voteMigrations } from "../db/migrations.js";
import type { VoteDb } from "../db/schema.js";
import { definitionHash, type Election } from "../domain/elections.js";
import { openReceipt, type Receipt } from "../domain/receipts.js";
import { leafData } from "../domain/transparency-log.js";
import { ballotWriter, type BallotWriter } from "./ballot-writer.js";

const LOG_NAME = "multi.test";

describe("ballot writer thread, several elections at once", () => {
  let dir = "";
  let db: Database<VoteDb>;
  let writer: BallotWriter;
  const key = generateEd25519Seed();
  const commits: { ballots: number; appended: number }[] = [];
  const heads = new Map<number, number>();
  const failures: { electionId: number | undefined; ballots: number }[] = [];
  let open: Election[] = [];
  let closed: Election;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voting-multi-"));
    const databaseUrl = `sqlite:${join(dir, "vote.sqlite")}`;
    db = openDatabase<VoteDb>(databaseUrl);
    await migrate(db, "vote_migrations", voteMigrations(db.dialect));
    const elections = electionRepository(db);
    const opened = async (title: string) => {
      const e = await elections.create({ title, description: "", method: "plurality", seats: 1, candidates: ["A", "B", "C"], resultsWhileOpen: false, voterRoll: [] });
      return elections.transition(e.id, "draft", "open", definitionHash);
    };
    open = [await opened("North"), await opened("South"), await opened("East")];
    closed = await opened("West");
    closed = await elections.transition(closed.id, "open", "closed");
    writer = ballotWriter({
      databaseUrl,
      batchMax: 500,
      lingerMs: 2,
      logName: LOG_NAME,
      logKey: () => ({ kid: "k1", key }),
      onAppended: (id, head) => heads.set(id, head),
      onCommitted: (ballots, appended) => commits.push({ ballots, appended }),
      onCommitFailed: (electionId, ballots) => failures.push({ electionId, ballots }),
    });
  });
  afterAll(async () => {
    await writer?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const castAll = (electionIds: number[], perElection: number, firstVoter: number) =>
    electionIds.flatMap((electionId) =>
      Array.from({ length: perElection }, (_, i) => {
        const c = { electionId, voterId: firstVoter + i, choices: [1 + (i % 3)], idempotencyKey: randomBytes(32) };
        return { ...c, receipt: writer.cast(c) };
      }),
    );
  const checkpoints = (electionId: number) => db.kysely.selectFrom("checkpoints").select(["tree_size", "note"]).where("election_id", "=", electionId).execute();
  const turnout = async (electionId: number) =>
    Number((await db.kysely.selectFrom("participations").select((eb) => eb.fn.countAll<number>().as("n")).where("election_id", "=", electionId).executeTakeFirstOrThrow()).n);

  it("commits the ballots of three elections cast together in one transaction; each chain, checkpoint and receipt verifies; the closed election's are refused", async () => {
    const cast = castAll([...open.map((e) => e.id), closed.id], 40, 1);
    const settled = await Promise.allSettled(cast.map((c) => c.receipt));
    expect(commits).toEqual([{ ballots: 160, appended: 120 }]);
    expect(Object.fromEntries(heads)).toEqual(Object.fromEntries(open.map((e) => [e.id, 40])));

    const refused = settled.filter((_, i) => cast[i].electionId === closed.id);
    expect(refused).toHaveLength(40);
    for (const s of refused) {
      expect(s.status).toBe("rejected");
      const reason = (s as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(FailedPreconditionError);
      expect(reason).toMatchObject({ reason: "ELECTION_NOT_OPEN" });
    }
    expect(await ballotRepository(db).readLog(closed.id, 0, 100)).toEqual([]);
    expect(await turnout(closed.id)).toBe(0);

    for (const e of open) {
      const log = await ballotRepository(db).readLog(e.id, 0, 100);
      expect(log.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const chain = checkChain(2, { seq: 0, hash: e.genesisHash }, log.map((r) => ({ ...r, choices: r.choices.split(",").map(Number) })), { requireBallots: true });
      const head = await electionRepository(db).get(e.id);
      expect(chain).toMatchObject({ ok: true, headSeq: 40, headHash: head!.headHash });
      // One checkpoint per election per commit, signed for that election's log.
      const cps = await checkpoints(e.id);
      expect(cps.map((c) => Number(c.tree_size))).toEqual([40]);
      const verifier = ed25519Verifier(electionOrigin(LOG_NAME, e.id), key.publicKey);
      const { checkpoint } = openCheckpoint(cps[0].note, { log: verifier });
      const mine = cast.filter((c) => c.electionId === e.id);
      const sealed = new Map((await db.kysely.selectFrom("participations").select(["voter_id", "sealed_receipt"]).where("election_id", "=", e.id).execute()).map((r) => [Number(r.voter_id), r.sealed_receipt]));
      expect(sealed.size).toBe(40);
      for (const c of mine) {
        const r: Receipt = await c.receipt;
        expect(r.electionId).toBe(e.id);
        const entry = log[r.seq - 1];
        expect(entry).toMatchObject({ electionId: e.id, seq: r.seq, hash: r.ballotHash, trackingCode: r.trackingCode, choices: c.choices.join(",") });
        expect(r.checkpoint).toBe(cps[0].note);
        expect(verifyInclusion(r.leafIndex!, checkpoint.size, leafHash(leafData(entry)), r.inclusionPath!, checkpoint.rootHash)).toBe(true);
        expect(openReceipt(c.idempotencyKey, e.id, c.voterId, sealed.get(c.voterId)!)).toEqual({ electionId: e.id, seq: r.seq, ballotHash: r.ballotHash, trackingCode: r.trackingCode });
      }
    }
  });

  it("when the transaction fails for one election's ballot, then every election's ballots are answered UNAVAILABLE and none is stored", async () => {
    const [a, b, c] = open.map((e) => e.id);
    const before = await Promise.all(open.map((e) => electionRepository(db).get(e.id)));
    await sql`create trigger refuse before insert on ballots when new.election_id = ${sql.lit(c)} begin select raise(abort, 'refused by test'); end`.execute(db.kysely);
    const cast = castAll([a, b, c], 5, 101);
    const settled = await Promise.allSettled(cast.map((x) => x.receipt));
    for (const s of settled) {
      expect(s.status).toBe("rejected");
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
      expect((s as PromiseRejectedResult).reason).toMatchObject({ reason: "BALLOT_NOT_RECORDED" });
    }
    expect(failures.sort((x, y) => x.electionId! - y.electionId!)).toEqual([a, b, c].map((electionId) => ({ electionId, ballots: 5 })));
    for (const [i, e] of open.entries()) {
      expect(await electionRepository(db).get(e.id)).toMatchObject({ headSeq: 40, headHash: before[i]!.headHash });
      expect((await ballotRepository(db).readLog(e.id, 0, 100)).length).toBe(40);
      expect(await turnout(e.id)).toBe(40);
      expect((await checkpoints(e.id)).length).toBe(1);
    }
    await sql`drop trigger refuse`.execute(db.kysely);

    // The same ballots retried go on each chain where it stopped, again in one commit.
    const commitsBefore = commits.length;
    const again = await Promise.all(cast.map((x) => writer.cast(x)));
    expect(commits.length).toBe(commitsBefore + 1);
    expect(new Set(again.map((r) => r.seq))).toEqual(new Set([41, 42, 43, 44, 45]));
  });
});
