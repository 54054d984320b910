import type { Kysely, Migration } from "kysely";
import { sealPlaintextKeysMigration, type Dialect, type Logger } from "@voting/server-kit";

/** keys: the key-encryption key (if any) that 0002 seals the old plaintext keys with. */
export function authMigrations(dialect: Dialect, keys: { kek?: Buffer; log?: Logger } = {}): Record<string, Migration> {
  // SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid).
  const idType = dialect === "sqlite" ? "integer" : "bigint";
  return {
    "0001-users-and-keys": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("users")
          .addColumn("id", idType, (c) => c.primaryKey().autoIncrement())
          .addColumn("username", "varchar(64)", (c) => c.notNull().unique())
          .addColumn("password_hash", "varchar(255)", (c) => c.notNull())
          .addColumn("role", "varchar(16)", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("users_role_id").on("users").columns(["role", "id"]).execute();
        await db.schema
          .createTable("auth_signing_keys")
          .addColumn("kid", "varchar(64)", (c) => c.primaryKey())
          .addColumn("private_jwk", "text", (c) => c.notNull())
          .addColumn("public_jwk", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0002-sealed-signing-keys": sealPlaintextKeysMigration("auth_signing_keys", keys),
  };
}
