import type { Kysely, Migration } from "kysely";
import { dropPlaintextKeysMigration, type Dialect, type Logger } from "@voting/server-kit";

/** keys: the store's dialect and where 0003 reports the plaintext keys it dropped. */
export const tallyMigrations = (keys: { dialect?: Dialect; log?: Logger } = {}): Record<string, Migration> => ({
  "0001-progress-and-ballots": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("tally_progress")
        .addColumn("election_id", "bigint", (c) => c.primaryKey())
        .addColumn("last_seq", "bigint", (c) => c.notNull())
        .addColumn("last_hash", "char(64)", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("tally_ballots")
        .addColumn("election_id", "bigint", (c) => c.notNull())
        .addColumn("ballot_key", "char(64)", (c) => c.notNull())
        .addColumn("choices", "varchar(2048)", (c) => c.notNull())
        .addColumn("n_ballots", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("tally_ballots_pk", ["election_id", "ballot_key"])
        .execute();
    },
  },
  "0002-signed-statements": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("tally_signing_keys")
        .addColumn("kid", "varchar(64)", (c) => c.primaryKey())
        .addColumn("private_jwk", "text", (c) => c.notNull())
        .addColumn("public_jwk", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("tally_statements")
        .addColumn("election_id", "bigint", (c) => c.primaryKey())
        .addColumn("statement", "text", (c) => c.notNull())
        .execute();
    },
  },
  "0003-sealed-signing-keys": dropPlaintextKeysMigration("tally_signing_keys", {
    ...keys,
    // Every stored statement was signed by a dropped key: tally-server signs a fresh one with
    // its new key when the result is next asked for, so the old keys need not be published.
    async onDropped(db, n) {
      const { numDeletedRows } = await db.deleteFrom("tally_statements").executeTakeFirst();
      if (n > 0 || numDeletedRows > 0n) keys.log?.warn({ statements: Number(numDeletedRows) }, "result statements signed by the old plaintext keys dropped; each is signed again with the new key");
    },
  }),
});
