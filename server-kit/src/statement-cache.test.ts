// SQLite statements are prepared once and reused: results must stay those of a fresh statement.
import { expect, it } from "vitest";
import { sql } from "kysely";
import { openDatabase } from "./db.js";

it("when a cached statement runs again after writes and a schema change, then it sees the current rows and columns", async () => {
  const db = openDatabase<any>("sqlite::memory:");
  const k = db.kysely;
  await sql`create table t (id integer primary key)`.execute(k);
  const all = () => k.selectFrom("t").selectAll().orderBy("id").execute();
  expect(await all()).toEqual([]);
  await k.insertInto("t").values({ id: 1 }).execute();
  await k.insertInto("t").values({ id: 2 }).execute();
  expect(await all()).toEqual([{ id: 1 }, { id: 2 }]);
  await sql`alter table t add column name text not null default 'x'`.execute(k);
  expect(await all()).toEqual([
    { id: 1, name: "x" },
    { id: 2, name: "x" },
  ]);
  // More distinct statements than the cache holds: each still answers for itself.
  for (let i = 0; i < 600; i++) {
    const row = await k.selectFrom("t").select(sql.lit(i % 300).as("v")).where("id", "=", 2).executeTakeFirstOrThrow();
    expect(row.v).toBe(i % 300);
  }
  await db.close();
});
