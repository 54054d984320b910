import type { Database, KeyStore } from "@voting/server-kit";
import type { AuthDb } from "./schema.js";

export function keyRepository(db: Database<AuthDb>): KeyStore {
  return {
    async all() {
      const rows = await db.kysely.selectFrom("auth_signing_keys").selectAll().orderBy("created_at", "desc").orderBy("kid").execute();
      return rows.map((r) => ({ kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: Number(r.created_at) }));
    },
    async insert(key) {
      await db.kysely
        .insertInto("auth_signing_keys")
        .values({ kid: key.kid, private_jwk: key.privateJwk, public_jwk: key.publicJwk, created_at: key.createdAt })
        .execute();
    },
  };
}
