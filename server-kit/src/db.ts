// Storage plumbing shared by the services: one Kysely instance over MySQL/MariaDB
// (mysql2) or SQLite (better-sqlite3), migrations, and write transactions that behave
// the same on both.
import { CompiledQuery, Kysely, Migrator, MysqlDialect, SqliteDialect, sql, type DatabaseConnection, type Dialect as KyselyDialect, type Driver, type Migration, type MysqlPool, type MysqlPoolConnection, type QueryResult, type SqliteDatabase, type TransactionSettings } from "kysely";
import { createPool, type Pool } from "mysql2";
import BetterSqlite3 from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { UnavailableError } from "./errors.js";

export type Dialect = "mysql" | "sqlite";

const BUSY_TIMEOUT_MS = 10_000;

export interface Database<DB> {
  kysely: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
  /** Calls listener on every query that fails because the database cannot be reached; returns the unsubscribe. */
  onOutage(listener: (err: DatabaseUnavailableError) => void): () => void;
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
  const listeners = new Set<(err: DatabaseUnavailableError) => void>();
  const onOutage = (listener: (err: DatabaseUnavailableError) => void) => (listeners.add(listener), () => void listeners.delete(listener));
  const outage = (err: DatabaseUnavailableError) => {
    for (const l of listeners) l(err);
  };
  if (dialect === "sqlite") {
    if (target !== ":memory:") mkdirSync(dirname(target), { recursive: true });
    const file = new BetterSqlite3(target);
    // Several processes share the file: WAL lets readers run beside the one writer,
    // busy_timeout makes writers queue instead of failing, FULL makes commits durable.
    file.pragma("journal_mode = WAL");
    file.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    file.pragma("synchronous = FULL");
    file.pragma("foreign_keys = ON");
    const kysely = new Kysely<DB>({ dialect: unavailableOnOutage(new SqliteDialect({ database: withStatementCache(file) }), outage) });
    return { kysely, dialect, close: () => kysely.destroy(), onOutage };
  }
  const pool = createPool({
    uri: target,
    connectionLimit: opts.poolSize ?? 16,
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: "Z",
    charset: "utf8mb4",
  });
  const kysely = new Kysely<DB>({ dialect: unavailableOnOutage(new MysqlDialect({ pool: withArrayRows(pool) }), outage) });
  return { kysely, dialect, close: () => kysely.destroy(), onOutage };
}

/** Marks a read whose rows come back as arrays of the selected values, in order (see arrayRowsQuery). */
const ARRAY_ROWS = "/* rows as arrays */ ";

/**
 * A read whose rows are arrays of the selected columns' values, not objects: for long reads
 * (the ballot log's pages), where a keyed object per row costs more than reading it.
 */
export function arrayRowsQuery(sqlText: string, parameters: readonly unknown[]): CompiledQuery<unknown[]> {
  return CompiledQuery.raw(ARRAY_ROWS + sqlText, [...parameters]) as CompiledQuery<unknown[]>;
}

/** mysql2 connections that answer arrayRowsQuery reads with arrays (rowsAsArray). */
function withArrayRows(pool: Pool): MysqlPool {
  const patched = new WeakSet<object>();
  return {
    getConnection(callback) {
      pool.getConnection((err, conn) => {
        if (conn && !patched.has(conn)) {
          patched.add(conn);
          const query = conn.query.bind(conn) as (...args: unknown[]) => unknown;
          conn.query = ((sqlText: unknown, ...rest: unknown[]) =>
            query(typeof sqlText === "string" && sqlText.startsWith(ARRAY_ROWS) ? { sql: sqlText, rowsAsArray: true } : sqlText, ...rest)) as typeof conn.query;
        }
        callback(err, conn as unknown as MysqlPoolConnection);
      });
    },
    end: (callback) => pool.end(callback),
  };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query afresh; the hot statements (ballot appends, log reads) repeat,
 * so keep the most recently used prepared statements by their SQL text. Kysely runs one
 * query at a time on the one SQLite connection, so a cached statement is never busy.
 */
function withStatementCache(file: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => file.close(),
    prepare(text) {
      let stmt = cache.get(text);
      if (stmt) cache.delete(text);
      else {
        stmt = file.prepare(text);
        if (text.startsWith(ARRAY_ROWS)) stmt.raw(true);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

/** The database could not be reached (or stayed locked); the call may be retried as is. */
export class DatabaseUnavailableError extends UnavailableError {
  constructor(override readonly cause: unknown) {
    super("the database cannot be reached; retry", { reason: "DATABASE_UNAVAILABLE", retryAfterMs: DATABASE_RETRY_MS, cause });
  }
}

/** The retry hint sent with DATABASE_UNAVAILABLE: about one connection attempt or failover. */
export const DATABASE_RETRY_MS = 1_000;

/** The driver's own error, looking through DatabaseUnavailableError. */
function driverError(err: unknown): { code?: string; errno?: number; sqlState?: string; message?: string; fatal?: boolean } | undefined {
  const e = err instanceof DatabaseUnavailableError ? err.cause : err;
  return typeof e === "object" && e !== null ? (e as object) : undefined;
}

const OUTAGE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "PROTOCOL_CONNECTION_LOST", "PROTOCOL_SEQUENCE_TIMEOUT", "ER_CON_COUNT_ERROR", "ER_LOCK_WAIT_TIMEOUT", "SQLITE_BUSY"]);

/**
 * Whether err means the database cannot serve us now (connection refused or lost, no free
 * connection, a Galera node not ready, a row lock held past innodb_lock_wait_timeout, SQLite
 * still locked after the busy wait), as opposed
 * to a query that is wrong.
 */
export function isDatabaseOutage(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = driverError(err);
  if (!e) return false;
  if (e.code && OUTAGE_CODES.has(e.code)) return true;
  if (e.errno === 1040 || e.errno === 1047) return true; // too many connections; WSREP not ready
  return /^(Pool is closed|Queue limit reached)/.test(e.message ?? "") || (e.fatal === true && e.errno === undefined);
}

/** Whether err is a deadlock or serialization failure, after which the whole transaction may run again. */
export function isRetryableConflict(err: unknown): boolean {
  const e = driverError(err);
  if (!e) return false;
  // 1213 deadlock, 1047 Galera not ready. Not 1205 (lock wait timeout): it has already waited
  // innodb_lock_wait_timeout (50 s by default), so it is answered UNAVAILABLE at once.
  return e.errno === 1213 || e.errno === 1047 || e.sqlState === "40001" || e.code === "ER_LOCK_DEADLOCK";
}

type OutageListener = (err: DatabaseUnavailableError) => void;

function mapOutage(err: unknown, outage: OutageListener): unknown {
  if (err instanceof DatabaseUnavailableError || !isDatabaseOutage(err)) return err;
  const mapped = new DatabaseUnavailableError(err);
  outage(mapped);
  return mapped;
}

/** The one place where driver outage errors become DatabaseUnavailableError (every query, transaction and migration goes through it). */
function unavailableOnOutage(dialect: KyselyDialect, outage: OutageListener): KyselyDialect {
  // Kysely's SQLite connection throws synchronously, so the call itself is wrapped too.
  const mapped = <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return call().catch((err: unknown) => Promise.reject(mapOutage(err, outage)));
    } catch (err) {
      return Promise.reject(mapOutage(err, outage));
    }
  };
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: (): Driver => {
      const driver = dialect.createDriver();
      const conns = new WeakMap<DatabaseConnection, DatabaseConnection>();
      const inner = (c: DatabaseConnection) => conns.get(c) ?? c;
      return {
        init: () => mapped(() => driver.init()),
        destroy: () => driver.destroy(),
        acquireConnection: async () => {
          const conn = await mapped(() => driver.acquireConnection());
          const wrapped: DatabaseConnection = {
            executeQuery: <R>(q: Parameters<DatabaseConnection["executeQuery"]>[0]) => mapped(() => conn.executeQuery<R>(q)) as Promise<QueryResult<R>>,
            streamQuery: async function* <R>(q: Parameters<DatabaseConnection["executeQuery"]>[0], chunkSize?: number) {
              try {
                yield* conn.streamQuery<R>(q, chunkSize);
              } catch (err) {
                throw mapOutage(err, outage);
              }
            },
          };
          conns.set(wrapped, conn);
          return wrapped;
        },
        beginTransaction: (c, settings: TransactionSettings) => mapped(() => driver.beginTransaction(inner(c), settings)),
        commitTransaction: (c) => mapped(() => driver.commitTransaction(inner(c))),
        rollbackTransaction: (c) => mapped(() => driver.rollbackTransaction(inner(c))),
        releaseConnection: (c) => driver.releaseConnection(inner(c)),
      };
    },
  };
}

/** Applies migrations in name order, once each, recorded in `<table>` (one per service). */
export async function migrate<DB>(db: Database<DB>, table: string, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations },
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
  });
  const release = await takeMigrationLock(db, `${table}_mutex`);
  try {
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === "Error");
    if (error) throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message}`);
  } finally {
    await release();
  }
}

/** A holder refreshes its lock row this often; one not refreshed for the lease is presumed dead. */
const MIGRATION_HEARTBEAT_MS = 10_000;
const MIGRATION_LEASE_MS = 2 * 60_000;

/**
 * One migrator at a time across every replica and every cluster node: the lock is a row,
 * and inserting it is a replicated write that only one node's insert can win (on Galera the
 * loser fails certification or hits the key), unlike GET_LOCK, which is per node.
 */
async function takeMigrationLock(db: Database<any>, lockTable: string): Promise<() => Promise<void>> {
  const k = db.kysely;
  const holder = randomBytes(12).toString("hex");
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      // busy_timeout 0: a holder in this very process must not be waited for synchronously.
      if (db.dialect === "sqlite") await sql`pragma busy_timeout = 0`.execute(k);
      await sql`create table if not exists ${sql.table(lockTable)} (id integer primary key, holder varchar(32) not null, taken_at bigint not null)`.execute(k);
      await sql`delete from ${sql.table(lockTable)} where id = 1 and taken_at < ${Date.now() - MIGRATION_LEASE_MS}`.execute(k);
      await sql`insert into ${sql.table(lockTable)} (id, holder, taken_at) values (1, ${holder}, ${Date.now()})`.execute(k);
      break;
    } catch (err) {
      if (!isUniqueViolation(err) && !isRetryableConflict(err) && driverError(err)?.code !== "SQLITE_BUSY") throw err;
    } finally {
      if (db.dialect === "sqlite") await sql`pragma busy_timeout = ${sql.raw(String(BUSY_TIMEOUT_MS))}`.execute(k);
    }
    await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random())));
  }
  const heartbeat = setInterval(() => {
    sql`update ${sql.table(lockTable)} set taken_at = ${Date.now()} where id = 1 and holder = ${holder}`.execute(k).catch(() => undefined);
  }, MIGRATION_HEARTBEAT_MS);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await sql`delete from ${sql.table(lockTable)} where id = 1 and holder = ${holder}`.execute(k);
  };
}

export const CONFLICT_ATTEMPTS = 5;

/**
 * Runs attempt until it succeeds, at most CONFLICT_ATTEMPTS times while it fails with a
 * deadlock or serialization failure, sleeping 5-100 ms (full jitter) between tries.
 */
export async function retryConflicts<T>(attempt: () => Promise<T>, attempts = CONFLICT_ATTEMPTS): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= attempts || !isRetryableConflict(err)) throw err;
    }
    const cap = Math.min(100, 5 * 2 ** i);
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * (cap - 5)));
  }
}

/**
 * Runs fn in one transaction, again from the start (bounded) after a deadlock or
 * serialization failure: fn must read what it decides on inside the transaction. On SQLite
 * it starts with BEGIN IMMEDIATE, so a transaction that reads then writes never fails on
 * lock upgrade when another process wrote between.
 */
export async function writeTransaction<DB, T>(db: Database<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return retryConflicts(() => transactionOnce(db, fn));
}

async function transactionOnce<DB, T>(db: Database<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
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
      if (driverError(err)?.code !== "SQLITE_BUSY" || Date.now() > deadline) throw err;
    } finally {
      await sql`pragma busy_timeout = ${sql.raw(String(BUSY_TIMEOUT_MS))}`.execute(conn);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * A multi-row insert as one statement built by hand, for hot writes (the ballot append): Kysely's
 * builder and compiler cost more per row than the insert does. Table and column names are the
 * caller's constants; every value is a parameter. Run it with `executeQuery`.
 */
export function insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): CompiledQuery {
  const row = `(${columns.map(() => "?").join(", ")})`;
  return CompiledQuery.raw(`insert into ${table} (${columns.join(", ")}) values ${rows.map(() => row).join(", ")}`, rows.flat());
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
