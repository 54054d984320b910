import type { Kysely, Migration } from "kysely";
import { canonicalUsername, dropPlaintextKeysMigration, type Dialect, type Logger } from "@voting/server-kit";

/**
 * New names for existing usernames: each becomes canonicalUsername(name). When several
 * collide (`Dave` and `dave`, possible on SQLite), the oldest account (lowest id) gets the
 * canonical name and each other one becomes `<canonical>#<id>`, a name outside the pattern:
 * nobody can log in as it or register it, and its row (and id) stays for an admin to see.
 */
export function canonicalRenames(rows: { id: number; username: string }[]): { id: number; username: string }[] {
  const owner = new Map<string, number>();
  for (const r of [...rows].sort((a, b) => a.id - b.id)) {
    const c = canonicalUsername(r.username);
    if (!owner.has(c)) owner.set(c, r.id);
  }
  const out = [];
  for (const r of rows) {
    const c = canonicalUsername(r.username);
    const suffix = `#${r.id}`;
    const name = owner.get(c) === r.id ? c : `${c.slice(0, 64 - suffix.length)}${suffix}`;
    if (name !== r.username) out.push({ id: r.id, username: name });
  }
  return out;
}

/** log: where 0003 reports the plaintext keys it dropped. */
export function authMigrations(dialect: Dialect, keys: { log?: Logger } = {}): Record<string, Migration> {
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
    "0002-canonical-usernames-and-used-assertions": {
      async up(db: Kysely<any>) {
        const rows = (await db.selectFrom("users").select(["id", "username"]).execute()).map((r) => ({ id: Number(r.id), username: String(r.username) }));
        const renames = canonicalRenames(rows);
        // Losers of a collision first, so no rename meets a name that is still taken.
        const losers = renames.filter((r) => r.username.includes("#"));
        for (const r of [...losers, ...renames.filter((x) => !x.username.includes("#"))]) {
          await db.updateTable("users").set({ username: r.username }).where("id", "=", r.id).execute();
        }
        await db.schema
          .createTable("used_assertions")
          .addColumn("id", "varchar(200)", (c) => c.primaryKey())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0003-sealed-signing-keys": dropPlaintextKeysMigration("auth_signing_keys", {
      dialect,
      log: keys.log,
      async onDropped(_db, n) {
        if (n > 0) keys.log?.warn({ keys: n }, "tokens signed by the old plaintext keys no longer verify: every user must log in again");
      },
    }),
    "0004-refresh-token-families": {
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
