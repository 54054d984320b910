import { isUniqueViolation, type Database } from "@voting/server-kit";
import type { AuthDb } from "./schema.js";
import type { AssertionLedger } from "../domain/service-tokens.js";

/** Used assertion ids in the store, so a replay is refused by every auth-server replica. */
export function assertionLedger(db: Database<AuthDb>): AssertionLedger {
  const k = db.kysely;
  return {
    async firstUse(id, expiresAt) {
      await k.deleteFrom("used_assertions").where("expires_at", "<", Date.now()).execute();
      try {
        await k.insertInto("used_assertions").values({ id, expires_at: expiresAt }).execute();
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
  };
}
