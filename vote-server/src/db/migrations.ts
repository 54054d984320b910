import { sql, type Kysely, type Migration } from "kysely";
import { canonicalUsername, type Dialect } from "@voting/server-kit";
import { CompactRange, entryBytes, leafHash } from "@voting/election-core";

export function voteMigrations(dialect: Dialect): Record<string, Migration> {
  const idType = dialect === "sqlite" ? "integer" : "bigint";
  return {
    "0001-elections-ballots": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("elections")
          .addColumn("id", idType, (c) => c.primaryKey().autoIncrement())
          .addColumn("title", "varchar(200)", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("method", "varchar(16)", (c) => c.notNull())
          .addColumn("seats", "integer", (c) => c.notNull())
          .addColumn("state", "varchar(16)", (c) => c.notNull())
          .addColumn("candidate_source", "varchar(32)", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("genesis_hash", "char(64)", (c) => c.notNull())
          .addColumn("head_seq", "bigint", (c) => c.notNull())
          .addColumn("head_hash", "char(64)", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("ballots")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("tracking_code", "varchar(32)", (c) => c.notNull().unique())
          .addColumn("choices", "varchar(2048)", (c) => c.notNull())
          .addColumn("hash", "char(64)", (c) => c.notNull())
          .addPrimaryKeyConstraint("ballots_pk", ["election_id", "seq"])
          .execute();
        await db.schema
          .createTable("participations")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("voter_id", "bigint", (c) => c.notNull())
          .addColumn("commitment", "char(64)", (c) => c.notNull())
          .addColumn("sealed_receipt", "varchar(512)", (c) => c.notNull())
          .addPrimaryKeyConstraint("participations_pk", ["election_id", "voter_id"])
          .execute();
      },
    },
    "0002-lifecycle-candidates-rolls": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("elections").addColumn("opens_at", "bigint").execute();
        await db.schema.alterTable("elections").addColumn("closes_at", "bigint").execute();
        await db.schema.alterTable("elections").addColumn("results_while_open", "integer", (c) => c.notNull().defaultTo(1)).execute();
        await db.schema.alterTable("elections").addColumn("has_voter_roll", "integer", (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.createIndex("elections_state_opens").on("elections").columns(["state", "opens_at"]).execute();
        await db.schema.createIndex("elections_state_closes").on("elections").columns(["state", "closes_at"]).execute();
        await db.schema
          .createTable("candidates")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("candidate_id", "bigint", (c) => c.notNull())
          .addColumn("name", "varchar(200)", (c) => c.notNull())
          .addPrimaryKeyConstraint("candidates_pk", ["election_id", "candidate_id"])
          .addUniqueConstraint("candidates_name", ["election_id", "name"])
          .execute();
        await db.schema
          .createTable("voter_rolls")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("username", "varchar(64)", (c) => c.notNull())
          .addPrimaryKeyConstraint("voter_rolls_pk", ["election_id", "username"])
          .execute();
      },
    },
    // Log format 2 (docs/ballot-log.md): entries commit to the ballot under a salt. Elections
    // that already have a log keep format 1 so their chains still verify; drafts have no log yet.
    "0003-log-format-v2": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("elections").addColumn("log_format", "integer", (c) => c.notNull().defaultTo(1)).execute();
        await sql`update elections set log_format = 2 where state = 'draft'`.execute(db);
        await db.schema.alterTable("ballots").addColumn("commitment", "char(64)", (c) => c.notNull().defaultTo("")).execute();
        await db.schema.alterTable("ballots").addColumn("salt", "char(64)", (c) => c.notNull().defaultTo("")).execute();
      },
    },
    // Roll entries take the canonical username form; variants of one name merge into one entry.
    "0004-canonical-voter-rolls": {
      async up(db: Kysely<any>) {
        const rows = await db.selectFrom("voter_rolls").select(["election_id", "username"]).execute();
        const seen = new Set(rows.map((r) => `${r.election_id}\n${r.username}`));
        for (const r of rows) {
          const canonical = canonicalUsername(String(r.username));
          if (canonical === r.username) continue;
          const q = db.deleteFrom("voter_rolls").where("election_id", "=", r.election_id).where("username", "=", r.username);
          if (seen.has(`${r.election_id}\n${canonical}`)) {
            await q.execute();
          } else {
            await db.updateTable("voter_rolls").set({ username: canonical }).where("election_id", "=", r.election_id).where("username", "=", r.username).execute();
            seen.add(`${r.election_id}\n${canonical}`);
          }
        }
      },
    },
    // The transparency log (docs/transparency-log.md): complete subtrees of each format 2
    // election's Merkle tree, its signed checkpoints, and the sealed log signing key. Format 1
    // elections get no tree: their entry bytes hold the choices. Format 2 logs written before
    // this migration get their nodes here; their first checkpoint is signed at the next start.
    "0005-transparency-log": {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("tlog_nodes")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("level", "integer", (c) => c.notNull())
          .addColumn("idx", "bigint", (c) => c.notNull())
          .addColumn("hash", dialect === "sqlite" ? "blob" : sql`binary(32)`, (c) => c.notNull())
          .addPrimaryKeyConstraint("tlog_nodes_pk", ["election_id", "level", "idx"])
          .execute();
        await db.schema
          .createTable("checkpoints")
          .addColumn("election_id", "bigint", (c) => c.notNull())
          .addColumn("tree_size", "bigint", (c) => c.notNull())
          .addColumn("note", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("checkpoints_pk", ["election_id", "tree_size"])
          .execute();
        await db.schema
          .createTable("vote_log_keys")
          .addColumn("kid", "varchar(64)", (c) => c.primaryKey())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("sealed_key", "text")
          .execute();
        const logs = await db.selectFrom("elections").select(["id"]).where("log_format", "=", 2).where("head_seq", ">", 0).execute();
        for (const { id } of logs) {
          const range = new CompactRange();
          for (let after = 0; ; ) {
            const rows = await db.selectFrom("ballots").select(["seq", "tracking_code", "commitment"]).where("election_id", "=", id).where("seq", ">", after).orderBy("seq").limit(5000).execute();
            if (rows.length === 0) break;
            const nodes = rows.flatMap((r) =>
              range.append(leafHash(entryBytes(2, { electionId: Number(id), seq: Number(r.seq), trackingCode: r.tracking_code, commitment: r.commitment }))),
            );
            for (let i = 0; i < nodes.length; i += 1000) {
              await db
                .insertInto("tlog_nodes")
                .values(nodes.slice(i, i + 1000).map((n) => ({ election_id: id, level: n.level, idx: n.index, hash: n.hash })))
                .execute();
            }
            after = Number(rows[rows.length - 1].seq);
          }
        }
      },
    },
  };
}
