import { isUniqueViolation, writeTransaction, type Database, type Dialect } from "@voting/server-kit";
import { hash } from "node:crypto";
import { CompiledQuery, type Kysely } from "kysely";
import type { TallyDb } from "./schema.js";

export interface TallySnapshot {
  lastSeq: number;
  lastHash: string;
  ballots: Map<string, number>;
}

/** One election's counts to add and the progress they move it to. */
export interface TallyChange {
  electionId: number;
  /** The progress the counts were made from. */
  fromSeq: number;
  to: { seq: number; hash: string };
  delta: Map<string, number>;
}

export interface TallyRepository {
  load(electionId: number): Promise<TallySnapshot | undefined>;
  /**
   * Adds the counts and moves the progress of every change, all in one transaction. Per change
   * (in order): false, changing nothing of that election, when its progress is no longer at
   * fromSeq (another tally-server moved it); the others are applied.
   */
  apply(changes: TallyChange[]): Promise<boolean[]>;
}

const ballotKey = (choices: string) => hash("sha256", choices, "hex");
/** Rows per upsert statement: a backlog's transaction holds tens of thousands, more than one statement may bind. */
const ROWS_PER_STATEMENT = 512;

/**
 * The upsert of `rows` counts, as text: a backlog's transaction adds tens of thousands of
 * rows, and building them as a Kysely query (a node per value, compiled each time) cost more
 * than running them. Statements hold a power of two of rows, so that a few texts repeat and
 * the store keeps them prepared.
 */
function upsertText(dialect: Dialect, rows: number): string {
  const values = new Array<string>(rows).fill("(?, ?, ?, ?)").join(", ");
  return dialect === "mysql"
    ? `insert into \`tally_ballots\` (\`election_id\`, \`ballot_key\`, \`choices\`, \`n_ballots\`) values ${values} on duplicate key update \`n_ballots\` = \`n_ballots\` + values(\`n_ballots\`)`
    : `insert into "tally_ballots" ("election_id", "ballot_key", "choices", "n_ballots") values ${values} on conflict ("election_id", "ballot_key") do update set "n_ballots" = "n_ballots" + excluded."n_ballots"`;
}

export function tallyRepository(db: Database<TallyDb>): TallyRepository {
  const k = db.kysely;
  const texts = new Map<number, string>();
  const upsert = (trx: Kysely<TallyDb>, params: (string | number)[]) => {
    const rows = params.length / 4;
    let text = texts.get(rows);
    if (text === undefined) texts.set(rows, (text = upsertText(db.dialect, rows)));
    return trx.executeQuery(CompiledQuery.raw(text, params));
  };
  const q = (name: string) => (db.dialect === "mysql" ? `\`${name}\`` : `"${name}"`);
  // As text, prepared once: built with Kysely it cost more than running it, once per election per apply.
  const moveText = `update ${q("tally_progress")} set ${q("last_seq")} = ?, ${q("last_hash")} = ? where ${q("election_id")} = ? and ${q("last_seq")} = ?`;
  /** Moves the progress from fromSeq to `to`; false when it is not at fromSeq. */
  const moveProgress = async (trx: Kysely<TallyDb>, electionId: number, fromSeq: number, to: { seq: number; hash: string }) => {
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
      return true;
    }
    const moved = await trx.executeQuery(CompiledQuery.raw(moveText, [to.seq, to.hash, electionId, fromSeq]));
    return Number(moved.numAffectedRows ?? 0) === 1;
  };
  return {
    async load(electionId) {
      const progress = await k.selectFrom("tally_progress").selectAll().where("election_id", "=", electionId).executeTakeFirst();
      if (!progress) return undefined;
      const rows = await k.selectFrom("tally_ballots").select(["choices", "n_ballots"]).where("election_id", "=", electionId).execute();
      return { lastSeq: Number(progress.last_seq), lastHash: progress.last_hash, ballots: new Map(rows.map((r) => [r.choices, Number(r.n_ballots)])) };
    },
    apply(changes) {
      // Elections in ascending id order, so that two tally-servers lock their progress rows alike.
      const order = changes.map((c, i) => i).sort((a, b) => changes[a].electionId - changes[b].electionId);
      return writeTransaction(db, async (trx) => {
        const applied = new Array<boolean>(changes.length).fill(false);
        const params: (string | number)[] = [];
        for (const i of order) {
          const { electionId, fromSeq, to, delta } = changes[i];
          if (!(await moveProgress(trx, electionId, fromSeq, to))) continue;
          applied[i] = true;
          // Rows of every election share the statements.
          for (const [choices, count] of delta) {
            params.push(electionId, ballotKey(choices), choices, count);
            if (params.length === 4 * ROWS_PER_STATEMENT) await upsert(trx, params.splice(0));
          }
        }
        for (let rows = ROWS_PER_STATEMENT / 2; rows >= 1; rows /= 2) {
          if (params.length >= 4 * rows) await upsert(trx, params.splice(0, 4 * rows));
        }
        return applied;
      });
    },
  };
}
