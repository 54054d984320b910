// Storage plumbing shared by the services: one Kysely instance over MySQL/MariaDB
// (mysql2) or SQLite (better-sqlite3), migrations, and write transactions that behave
// the same on both.
import { Kysely, Migrator, MysqlDialect, SqliteDialect, sql, type Migration } from "kysely";
import { createPool } from "mysql2";
import BetterSqlite3 from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type Dialect = "mysql" | "sqlite";

const BUSY_TIMEOUT_MS = 10_000;

export interface Database<DB> {
  kysely: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface DatabaseUrl {
  dialect: Dialect;
  /** File path for sqlite, the URL itself for mysql. */
  target: string;
}

export function parseDatabaseUrl(url: string): DatabaseUrl {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new Error("sqlite: needs a file path, e.g. sqlite:data/voting.sqlite");
    return { dialect: "sqlite", target: path };
  }
  if (url.startsWith("mysql://")) {
    new URL(url); // throws on a malformed URL
    return { dialect: "mysql", target: url };
  }
  throw new Error("must start with sqlite: or mysql://");
}

export function openDatabase<DB>(url: string, opts: { poolSize?: number } = {}): Database<DB> {
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === "sqlite") {
    if (target !== ":memory:") mkdirSync(dirname(target), { recursive: true });
    const file = new BetterSqlite3(target);
    // Several processes share the file: WAL lets readers run beside the one writer,
    // busy_timeout makes writers queue instead of failing, FULL makes commits durable.
    file.pragma("journal_mode = WAL");
    file.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    file.pragma("synchronous = FULL");
    file.pragma("foreign_keys = ON");
    const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: file }) });
    return { kysely, dialect, close: () => kysely.destroy() };
  }
  const pool = createPool({
    uri: target,
    connectionLimit: opts.poolSize ?? 16,
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: "Z",
    charset: "utf8mb4",
  });
  const kysely = new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  return { kysely, dialect, close: () => kysely.destroy() };
}

/** Applies migrations in name order, once each, recorded in `<table>` (one per service). */
export async function migrate<DB>(db: Database<DB>, table: string, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations },
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error) throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message}`);
}

/**
 * Runs fn in one transaction. On SQLite it starts with BEGIN IMMEDIATE, so a transaction
 * that reads then writes never fails on lock upgrade when another process wrote between.
 */
export async function writeTransaction<DB, T>(db: Database<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (db.dialect === "mysql") return db.kysely.transaction().execute(fn);
  return db.kysely.connection().execute(async (conn) => {
    await beginImmediate(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

const BUSY_WAIT_LIMIT_MS = 10_000;

/**
 * SQLite's own busy handler sleeps inside the call, stalling this process's event loop for up
 * to 100 ms at a time while another process holds the write lock. Waiting here instead keeps
 * the loop serving calls (and gathering the next group commit) meanwhile.
 */
async function beginImmediate(conn: Kysely<any>): Promise<void> {
  const deadline = Date.now() + BUSY_WAIT_LIMIT_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, 16)) {
    await sql`pragma busy_timeout = 0`.execute(conn);
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw err;
    } finally {
      await sql`pragma busy_timeout = ${sql.raw(String(BUSY_TIMEOUT_MS))}`.execute(conn);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Whether err is a unique-key violation, on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === "ER_DUP_ENTRY" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" || e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** Opaque page token for id-ordered listings. */
export function encodePageToken(lastId: number): string {
  return Buffer.from(`after:${lastId}`, "utf8").toString("base64url");
}

export function decodePageToken(token: string): number | undefined {
  if (token === "") return 0;
  const m = /^after:(\d{1,15})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  return m ? Number(m[1]) : undefined;
}
