// The storage layer when the database falters: deadlocks retried inside writeTransaction, an
// unreachable database answered UNAVAILABLE, and replicas migrating one fresh database at once.
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import mysql from "mysql2/promise";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Status, createVotingClient } from "@voting/client";
import { createLogger, openDatabase, writeTransaction, type Database } from "@voting/server-kit";
import { readVoteConfig, startVoteServer } from "@voting/vote-server";
import { mysqlServerUrl, startSystem, stores, type Store, type System } from "./harness.js";
import { proxyFrom } from "./proxy.js";

const mysqlBase = await mysqlServerUrl();
const log = createLogger("test", "silent");

/** A new empty database on the store; drop() removes it. */
async function freshDatabase(store: Store): Promise<{ url: string; drop(): Promise<void> }> {
  if (store === "sqlite") {
    const dir = await mkdtemp(join(tmpdir(), "voting-db-faults-"));
    return { url: `sqlite:${join(dir, "voting.sqlite")}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `voting_test_${randomBytes(6).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: mysqlBase! });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  return {
    url: `${mysqlBase}/${name}`,
    async drop() {
      const c = await mysql.createConnection({ uri: mysqlBase! });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

describe.skipIf(!mysqlBase)("write transactions on MariaDB", () => {
  let db: Database<any> | undefined;
  let fresh: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  afterAll(async () => {
    await db?.close();
    await fresh?.drop();
  });

  it("when two transactions lock two rows in opposite order and deadlock, then the retry lets both commit", async () => {
    fresh = await freshDatabase("mysql");
    db = openDatabase<any>(fresh.url);
    const k = db.kysely;
    await sql`create table accounts (id int primary key, balance int not null) engine=InnoDB`.execute(k);
    await sql`insert into accounts values (1, 100), (2, 100)`.execute(k);

    // Both hold their first row before either asks for its second: a deadlock for sure on the first run.
    let locked = 0;
    let bothLocked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    let runs = 0;
    const transfer = (from: number, to: number) =>
      writeTransaction(db!, async (trx) => {
        runs++;
        await sql`update accounts set balance = balance - 10 where id = ${from}`.execute(trx);
        if (++locked === 2) bothLocked();
        await barrier;
        await sql`update accounts set balance = balance + 10 where id = ${to}`.execute(trx);
      });
    const results = await Promise.allSettled([transfer(1, 2), transfer(2, 1)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(runs).toBeGreaterThanOrEqual(3); // one of them ran again after the deadlock
    const rows = (await sql<{ id: number; balance: number }>`select id, balance from accounts order by id`.execute(k)).rows;
    expect(rows).toEqual([
      { id: 1, balance: 100 },
      { id: 2, balance: 100 },
    ]);
  });
});

describe.skipIf(!mysqlBase)("vote-server when its database cannot be reached", () => {
  let sys: System | undefined;
  let replica: Awaited<ReturnType<typeof startVoteServer>> | undefined;
  afterAll(async () => {
    await replica?.stop().catch(() => undefined);
    await sys?.stop();
  });

  it("when the database goes away after start, then GetElection and CastVote answer UNAVAILABLE, not INTERNAL", async () => {
    sys = await startSystem("mysql");
    const voter = await sys.user("voter");
    const cand = await sys.user("candidate");
    // A replica whose only way to the database is a proxy this test can cut.
    const url = new URL(sys.databaseUrl);
    const proxy = await proxyFrom("127.0.0.1", `${url.hostname}:${url.port || 3306}`);
    url.host = proxy.addr;
    replica = await startVoteServer(readVoteConfig({ ...sys.env, DATABASE_URL: url.toString(), VOTE_PORT: "0" }), log);
    const client = createVotingClient({ authAddr: sys.addrs.auth, voteAddr: `127.0.0.1:${replica.port}`, tallyAddr: sys.addrs.tally, token: voter.token });
    try {
      expect((await client.elections.getElection({})).election).toBeDefined();
      await proxy.close();
      await expect(client.elections.getElection({})).rejects.toMatchObject({ code: Status.UNAVAILABLE, details: "the database cannot be reached; retry" });
      await expect(client.votes.castVote({ ballot: { choices: [cand.id] } })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    } finally {
      client.close();
    }
  });
});

for (const store of stores) {
  describe.skipIf(store === "mysql" && !mysqlBase)(`migrations with many replicas [${store}]`, () => {
    let sys: System | undefined;
    let fresh: Awaited<ReturnType<typeof freshDatabase>> | undefined;
    const started: Awaited<ReturnType<typeof startVoteServer>>[] = [];
    afterAll(async () => {
      await Promise.allSettled(started.map((s) => s.stop()));
      await sys?.stop();
      await fresh?.drop();
    });

    it("when three vote-servers start at once on one fresh database, then all start and each migration is applied once", async () => {
      sys = await startSystem(store);
      fresh = await freshDatabase(store);
      const results = await Promise.allSettled(Array.from({ length: 3 }, () => startVoteServer(readVoteConfig({ ...sys!.env, DATABASE_URL: fresh!.url, VOTE_PORT: "0" }), log)));
      for (const r of results) if (r.status === "fulfilled") started.push(r.value);
      expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const db = openDatabase<any>(fresh.url);
      try {
        const names = (await sql<{ name: string }>`select name from vote_migrations`.execute(db.kysely)).rows.map((r) => r.name);
        expect(names.length).toBeGreaterThan(0);
        expect(new Set(names).size).toBe(names.length);
        const lock = (await sql<{ n: number }>`select count(*) as n from vote_migrations_mutex`.execute(db.kysely)).rows[0];
        expect(Number(lock.n)).toBe(0); // every migrator released the lock
      } finally {
        await db.close();
      }
    });

    it("when a crashed migrator left its lock row past the lease, then a vote-server takes it over and starts", async () => {
      const stale = await freshDatabase(store);
      const db = openDatabase<any>(stale.url);
      try {
        await sql`create table vote_migrations_mutex (id integer primary key, holder varchar(32) not null, taken_at bigint not null)`.execute(db.kysely);
        await sql`insert into vote_migrations_mutex values (1, ${"crashed"}, ${Date.now() - 3 * 60_000})`.execute(db.kysely);
        const vote = await startVoteServer(readVoteConfig({ ...sys!.env, DATABASE_URL: stale.url, VOTE_PORT: "0" }), log);
        started.push(vote);
        expect((await sql<{ n: number }>`select count(*) as n from vote_migrations_mutex`.execute(db.kysely)).rows[0].n).toBe(0);
      } finally {
        await db.close();
        await stale.drop();
      }
    });
  });
}
