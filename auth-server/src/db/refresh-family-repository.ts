// Refresh-token families: one row per login, naming the one refresh token that may be used
// next. Rotation is a compare-and-set on that row, so two uses of one token cannot both win.
import type { Database } from "@voting/server-kit";
import type { AuthDb } from "./schema.js";

export type FamilyState = "active" | "revoked";

export interface RefreshFamilyRepository {
  create(f: { family: string; userId: number; jti: string; expiresAt: number }): Promise<void>;
  /** Moves an active family from `jti` to `next`; false if `jti` is not its current token. */
  rotate(family: string, jti: string, next: string, expiresAt: number): Promise<boolean>;
  revoke(family: string): Promise<void>;
  state(family: string): Promise<FamilyState | undefined>;
  /** Deletes families whose newest token has expired; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

export function refreshFamilyRepository(db: Database<AuthDb>): RefreshFamilyRepository {
  const k = db.kysely;
  return {
    async create({ family, userId, jti, expiresAt }) {
      await k.insertInto("refresh_families").values({ family_id: family, user_id: userId, current_jti: jti, revoked: 0, expires_at: expiresAt }).execute();
    },
    async rotate(family, jti, next, expiresAt) {
      const r = await k
        .updateTable("refresh_families")
        .set({ current_jti: next, expires_at: expiresAt })
        .where("family_id", "=", family)
        .where("current_jti", "=", jti)
        .where("revoked", "=", 0)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async revoke(family) {
      await k.updateTable("refresh_families").set({ revoked: 1 }).where("family_id", "=", family).execute();
    },
    async state(family) {
      const r = await k.selectFrom("refresh_families").select("revoked").where("family_id", "=", family).executeTakeFirst();
      if (!r) return undefined;
      return Number(r.revoked) === 1 ? "revoked" : "active";
    },
    async purgeExpired(now) {
      const r = await k.deleteFrom("refresh_families").where("expires_at", "<", now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
