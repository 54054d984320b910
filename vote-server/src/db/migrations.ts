import type { Kysely, Migration } from "kysely";
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
  };
}
