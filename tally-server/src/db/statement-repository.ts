import { isUniqueViolation, type Database } from "@voting/server-kit";
import type { TallyDb } from "./schema.js";

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
