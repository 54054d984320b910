import { isUniqueViolation, writeTransaction, type Database } from "@voting/server-kit";
import { hash } from "node:crypto";
import { sql } from "kysely";
import type { TallyDb } from "./schema.js";

export interface TallySnapshot {
  lastSeq: number;
  lastHash: string;
  ballots: Map<string, number>;
}

export interface TallyRepository {
  load(electionId: number): Promise<TallySnapshot | undefined>;
  /**
   * Adds counts and moves progress from `fromSeq` to `to` in one transaction. Returns false,
   * changing nothing, when progress is no longer at fromSeq (another tally-server moved it).
   */
  apply(electionId: number, fromSeq: number, to: { seq: number; hash: string }, delta: Map<string, number>): Promise<boolean>;
}

const ballotKey = (choices: string) => hash("sha256", choices, "hex");
/** Rows per upsert statement: a backlog's transaction holds tens of thousands, more than one statement may bind. */
const ROWS_PER_STATEMENT = 1000;

export function tallyRepository(db: Database<TallyDb>): TallyRepository {
  const k = db.kysely;
  return {
    async load(electionId) {
      const progress = await k.selectFrom("tally_progress").selectAll().where("election_id", "=", electionId).executeTakeFirst();
      if (!progress) return undefined;
      const rows = await k.selectFrom("tally_ballots").select(["choices", "n_ballots"]).where("election_id", "=", electionId).execute();
      return { lastSeq: Number(progress.last_seq), lastHash: progress.last_hash, ballots: new Map(rows.map((r) => [r.choices, Number(r.n_ballots)])) };
    },
    apply(electionId, fromSeq, to, delta) {
      return writeTransaction(db, async (trx) => {
        if (fromSeq === 0) {
          const exists = await trx.selectFrom("tally_progress").select("last_seq").where("election_id", "=", electionId).executeTakeFirst();
          if (exists) return false;
          try {
            await trx.insertInto("tally_progress").values({ election_id: electionId, last_seq: to.seq, last_hash: to.hash }).execute();
          } catch (err) {
            // Another tally-server made the first apply between our read and this insert.
            if (isUniqueViolation(err)) return false;
            throw err;
          }
        } else {
          const moved = await trx
            .updateTable("tally_progress")
            .set({ last_seq: to.seq, last_hash: to.hash })
            .where("election_id", "=", electionId)
            .where("last_seq", "=", fromSeq)
            .executeTakeFirst();
          if (Number(moved.numUpdatedRows) !== 1) return false;
        }
        const rows = [...delta].map(([choices, count]) => ({ election_id: electionId, ballot_key: ballotKey(choices), choices, n_ballots: count }));
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const values = rows.slice(i, i + ROWS_PER_STATEMENT);
          if (db.dialect === "mysql") {
            await trx.insertInto("tally_ballots").values(values).onDuplicateKeyUpdate({ n_ballots: sql`n_ballots + values(n_ballots)` }).execute();
          } else {
            await trx
              .insertInto("tally_ballots")
              .values(values)
              .onConflict((oc) => oc.columns(["election_id", "ballot_key"]).doUpdateSet({ n_ballots: sql`n_ballots + excluded.n_ballots` }))
              .execute();
          }
        }
        return true;
      });
    },
  };
}
