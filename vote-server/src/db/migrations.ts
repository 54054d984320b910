import { sql, type Kysely, type Migration } from "kysely";
import type { Dialect } from "@voting/server-kit";

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
  };
}
