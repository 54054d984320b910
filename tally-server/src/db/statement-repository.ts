import { isUniqueViolation, type Database, type KeyStore } from "@voting/server-kit";
import type { TallyDb } from "./schema.js";

export function tallyKeyStore(db: Database<TallyDb>): KeyStore {
  return {
    async all() {
      const rows = await db.kysely.selectFrom("tally_signing_keys").selectAll().orderBy("created_at", "desc").orderBy("kid").execute();
      return rows.map((r) => ({ kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: Number(r.created_at) }));
    },
    async insert(key) {
      await db.kysely.insertInto("tally_signing_keys").values({ kid: key.kid, private_jwk: key.privateJwk, public_jwk: key.publicJwk, created_at: key.createdAt }).execute();
    },
  };
}

export interface StatementRepository {
  get(electionId: number): Promise<string | undefined>;
  /** Stores the statement unless one exists; returns the one that stands. */
  putIfAbsent(electionId: number, statement: string): Promise<string>;
}

export function statementRepository(db: Database<TallyDb>): StatementRepository {
  const get = async (electionId: number) =>
    (await db.kysely.selectFrom("tally_statements").select("statement").where("election_id", "=", electionId).executeTakeFirst())?.statement;
  return {
    get,
    async putIfAbsent(electionId, statement) {
      try {
        await db.kysely.insertInto("tally_statements").values({ election_id: electionId, statement }).execute();
        return statement;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return (await get(electionId))!;
      }
    },
  };
}
