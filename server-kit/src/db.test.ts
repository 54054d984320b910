import { describe, expect, it } from "vitest";
import { sql } from "kysely";
import { arrayRowsQuery, CONFLICT_ATTEMPTS, DatabaseUnavailableError, insertRows, isDatabaseOutage, isRetryableConflict, openDatabase, writeTransaction, type Database } from "./db.js";
import { randomBytes } from "node:crypto";
import { UnavailableError } from "./errors.js";

const deadlock = () => Object.assign(new Error("Deadlock found when trying to get lock"), { code: "ER_LOCK_DEADLOCK", errno: 1213, sqlState: "40001" });

async function memoryDb() {
  const db = openDatabase<any>("sqlite::memory:");
  await sql`create table t (id integer primary key)`.execute(db.kysely);
  return db;
}

describe("writeTransaction retries", () => {
  it("when the transaction hits a deadlock twice, then it runs again and commits once", async () => {
    const db = await memoryDb();
    let runs = 0;
    const result = await writeTransaction(db, async (trx) => {
      runs++;
      await sql`insert into t (id) values (${runs})`.execute(trx);
      if (runs <= 2) throw deadlock();
      return "done";
    });
    expect(result).toBe("done");
    expect(runs).toBe(3);
    // The failed runs were rolled back: only the third insert is there.
    expect((await sql<{ id: number }>`select id from t`.execute(db.kysely)).rows).toEqual([{ id: 3 }]);
    await db.close();
  });

  it("when every run hits a conflict, then it gives up after the bound and surfaces the error", async () => {
    const db = await memoryDb();
    let runs = 0;
    await expect(
      writeTransaction(db, async () => {
        runs++;
        throw deadlock();
      }),
    ).rejects.toMatchObject({ errno: 1213 });
    expect(runs).toBe(CONFLICT_ATTEMPTS);
    await db.close();
  });

  it("when the transaction fails for another reason, then it is not run again", async () => {
    const db = await memoryDb();
    let runs = 0;
    await expect(
      writeTransaction(db, async () => {
        runs++;
        throw new Error("a rule said no");
      }),
    ).rejects.toThrow("a rule said no");
    expect(runs).toBe(1);
    await db.close();
  });
});

describe("driver error classification", () => {
  it("when the error is a deadlock, serialization failure or Galera not ready, then it is a retryable conflict", () => {
    expect(isRetryableConflict(deadlock())).toBe(true);
    expect(isRetryableConflict({ errno: 1205, code: "ER_LOCK_WAIT_TIMEOUT" })).toBe(false); // already waited 50 s
    expect(isRetryableConflict({ errno: 1047, code: "ER_UNKNOWN_COM_ERROR" })).toBe(true);
    expect(isRetryableConflict({ sqlState: "40001" })).toBe(true);
    expect(isRetryableConflict({ errno: 1062, code: "ER_DUP_ENTRY" })).toBe(false);
    expect(isRetryableConflict(new Error("boom"))).toBe(false);
  });

  it("when the connection is refused, lost, the pool is closed or full, a lock wait times out, or SQLite stays busy, then it is an outage", () => {
    for (const e of [{ code: "ECONNREFUSED" }, { code: "PROTOCOL_CONNECTION_LOST", fatal: true }, { code: "ETIMEDOUT" }, { code: "ER_CON_COUNT_ERROR", errno: 1040 }, new Error("Pool is closed."), new Error("Queue limit reached."), { code: "ER_LOCK_WAIT_TIMEOUT", errno: 1205 }, { code: "SQLITE_BUSY" }]) {
      expect(isDatabaseOutage(e)).toBe(true);
    }
    expect(isDatabaseOutage({ code: "ER_PARSE_ERROR", errno: 1064 })).toBe(false);
    expect(isDatabaseOutage({ code: "SQLITE_CONSTRAINT_UNIQUE" })).toBe(false);
  });

  it("when a query runs on a closed MySQL pool, then it fails with UnavailableError", async () => {
    const db = openDatabase<any>("mysql://root@127.0.0.1:1/none");
    const err = await sql`select 1`.execute(db.kysely).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe("the database cannot be reached; retry");
    await db.close();
  });
});

describe("insertRows", () => {
  it("writes every row with its values in column order, each value a parameter", async () => {
    const db = openDatabase<any>("sqlite::memory:");
    await sql`create table r (a integer, b text, c blob)`.execute(db.kysely);
    const q = insertRows("r", ["a", "b", "c"], [[1, "x'); drop table r; --", Buffer.of(1, 2)], [2, "y", Buffer.of(3)]]);
    expect(q.sql).toBe("insert into r (a, b, c) values (?, ?, ?), (?, ?, ?)");
    await db.kysely.executeQuery(q);
    const rows = (await sql<{ a: number; b: string; c: Uint8Array }>`select a, b, c from r order by a`.execute(db.kysely)).rows;
    expect(rows.map((r) => [r.a, r.b, Buffer.from(r.c).toString("hex")])).toEqual([[1, "x'); drop table r; --", "0102"], [2, "y", "03"]]);
    await db.close();
  });
});

describe("arrayRowsQuery", () => {
  const check = async (db: Database<any>) => {
    const k = db.kysely;
    await sql`create table rows_t (id integer primary key, name varchar(20) not null)`.execute(k);
    await k.insertInto("rows_t").values([{ id: 1, name: "é" }, { id: 2, name: "b" }]).execute();
    const read = () => k.executeQuery(arrayRowsQuery("select name, id from rows_t where id >= ? order by id", [1]));
    expect((await read()).rows).toEqual([["é", 1], ["b", 2]]);
    // The same statement again (SQLite's statement cache), and other queries still give objects.
    expect((await read()).rows).toEqual([["é", 1], ["b", 2]]);
    expect(await k.selectFrom("rows_t").select(["name", "id"]).where("id", ">=", 1).orderBy("id").execute()).toEqual([{ name: "é", id: 1 }, { name: "b", id: 2 }]);
  };

  it("when a read is marked, then SQLite answers it with arrays in select order, and every other query with objects", async () => {
    const db = openDatabase<any>("sqlite::memory:");
    await check(db);
    await db.close();
  });

  it("when a read is marked, then MySQL/MariaDB answers it with arrays in select order, and every other query with objects", async (t) => {
    const server = "mysql://root@127.0.0.1:3306";
    const name = `serverkit_rows_${randomBytes(4).toString("hex")}`;
    const admin = openDatabase<any>(server);
    try {
      await sql.raw(`create database ${name}`).execute(admin.kysely);
    } catch {
      await admin.close();
      return t.skip();
    }
    const db = openDatabase<any>(`${server}/${name}`, { poolSize: 1 });
    try {
      await check(db);
    } finally {
      await db.close();
      await sql.raw(`drop database ${name}`).execute(admin.kysely);
      await admin.close();
    }
  });
});
