// The ledger's whole-log counts sit behind a public RPC (GetElection's turnout) and the
// reconciliation: against a real SQLite store, a flood of callers must share counts, not
// run one each, and every caller must still see what was stored before it asked.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openDatabase, type Database } from "@voting/server-kit";
import { ballotRepository } from "./ballot-repository.js";
import { electionRepository } from "./election-repository.js";
import { voteMigrations } from "./migrations.js";
import type { VoteDb } from "./schema.js";
import { definitionHash } from "../domain/elections.js";

describe("ballot repository ledger", () => {
  let dir = "";
  let db: Database<VoteDb>;
  let electionId = 0;

  const store = async (from: number, to: number) => {
    for (let seq = from; seq <= to; seq++) {
      await db.kysely.insertInto("ballots").values({ election_id: electionId, seq, tracking_code: `t${electionId}-${seq}`, choices: "[1]", hash: "00".repeat(32), commitment: "", salt: "" }).execute();
      await db.kysely.insertInto("participations").values({ election_id: electionId, voter_id: seq, commitment: "", sealed_receipt: "x" }).execute();
    }
    await db.kysely.updateTable("elections").set({ head_seq: to }).where("id", "=", electionId).execute();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voting-ledger-"));
    db = openDatabase<VoteDb>(`sqlite:${join(dir, "vote.sqlite")}`);
    await migrate(db, "vote_migrations", voteMigrations(db.dialect));
    const elections = electionRepository(db);
    const e = await elections.create({ title: "Ledger", description: "", method: "plurality", seats: 1, candidates: ["A", "B"], resultsWhileOpen: false, voterRoll: [] });
    electionId = (await elections.transition(e.id, "draft", "open", definitionHash)).id;
    await store(1, 40);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("when two hundred callers ask for the ledger at once, then the store runs at most two counts and every caller gets the true figures", async () => {
    const repo = ballotRepository(db);
    const reads = vi.spyOn(db.kysely, "transaction");
    const answers = await Promise.all(Array.from({ length: 200 }, () => repo.ledger(electionId)));
    expect(reads.mock.calls.length).toBeLessThanOrEqual(2);
    for (const a of answers) expect(a).toMatchObject({ headSeq: 40, ballots: 40, maxSeq: 40, turnout: 40 });
    reads.mockRestore();
  });

  it("when ballots are stored while a count runs, then a caller who asks after they were stored sees them", async () => {
    const repo = ballotRepository(db);
    const first = repo.ledger(electionId); // runs before the new ballots
    await store(41, 45);
    const after = repo.ledger(electionId); // must not share the count already running
    expect((await after).turnout).toBe(45);
    expect([40, 45]).toContain((await first).turnout);
  });
});
