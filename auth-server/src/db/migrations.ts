import type { Kysely, Migration } from "kysely";
import type { Dialect } from "@voting/server-kit";

export function authMigrations(dialect: Dialect): Record<string, Migration> {
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
    "0002-refresh-token-families": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("refresh_families")
          .addColumn("family_id", "varchar(36)", (c) => c.primaryKey())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("current_jti", "varchar(36)", (c) => c.notNull())
          .addColumn("revoked", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("refresh_families_expires_at").on("refresh_families").column("expires_at").execute();
      },
    },
  };
}
