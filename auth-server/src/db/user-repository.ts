import { isUniqueViolation, type Database } from "@voting/server-kit";
import type { AuthDb } from "./schema.js";
import type { Role, User, UserWithHash } from "../domain/users.js";

export class UsernameTakenError extends Error {}

export interface UserRepository {
  /** Throws UsernameTakenError when the username exists. */
  insert(u: { username: string; passwordHash: string; role: Role }): Promise<User>;
  /** Creates the account with this role, or resets its password if it has the role already; false if it has another role. */
  upsertPrivileged(username: string, passwordHash: string, role: "service" | "admin"): Promise<boolean>;
  findByUsername(username: string): Promise<UserWithHash | undefined>;
  findById(id: number): Promise<User | undefined>;
  list(q: { role?: Role; afterId: number; limit: number }): Promise<User[]>;
  count(): Promise<number>;
}

type Row = { id: number; username: string; role: string; created_at: number };
const toUser = (r: Row): User => ({ id: Number(r.id), username: r.username, role: r.role as Role, createdAt: new Date(Number(r.created_at)) });

export function userRepository(db: Database<AuthDb>): UserRepository {
  const k = db.kysely;
  return {
    async insert({ username, passwordHash, role }) {
      const createdAt = Date.now();
      try {
        const r = await k.insertInto("users").values({ username, password_hash: passwordHash, role, created_at: createdAt }).executeTakeFirstOrThrow();
        return { id: Number(r.insertId), username, role, createdAt: new Date(createdAt) };
      } catch (err) {
        if (isUniqueViolation(err)) throw new UsernameTakenError(username);
        throw err;
      }
    },
    async upsertPrivileged(username, passwordHash, role) {
      const existing = await k.selectFrom("users").select(["id", "role"]).where("username", "=", username).executeTakeFirst();
      if (existing && existing.role !== role) return false;
      if (existing) {
        await k.updateTable("users").set({ password_hash: passwordHash }).where("id", "=", existing.id).execute();
      } else {
        await k.insertInto("users").values({ username, password_hash: passwordHash, role, created_at: Date.now() }).execute();
      }
      return true;
    },
    async findByUsername(username) {
      const r = await k.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirst();
      return r && { ...toUser(r), passwordHash: r.password_hash };
    },
    async findById(id) {
      const r = await k.selectFrom("users").select(["id", "username", "role", "created_at"]).where("id", "=", id).executeTakeFirst();
      return r && toUser(r);
    },
    async list({ role, afterId, limit }) {
      let q = k.selectFrom("users").select(["id", "username", "role", "created_at"]).where("id", ">", afterId);
      if (role) q = q.where("role", "=", role);
      const rows = await q.orderBy("id").limit(limit).execute();
      return rows.map(toUser);
    },
    async count() {
      const r = await k.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
