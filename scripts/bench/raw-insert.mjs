#!/usr/bin/env node
// Child process of `npm run bench`: the storage limit. Durable single-row inserts, each its
// own transaction, into a table of the given store opened exactly as the servers open theirs
// (server-kit's openDatabase: SQLite in WAL with synchronous=FULL; MariaDB as configured,
// InnoDB flushing its log at every commit), with `concurrency` inserts in flight (a MySQL pool
// of as many connections; SQLite takes one writer at a time whatever the concurrency).
// Usage: raw-insert.mjs <database url> <count> <concurrency> <row bytes>
// Prints "ready" once the table exists; on "go" (stdin) inserts, then prints a JSON summary.
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";

const { openDatabase } = await import("@voting/server-kit");
const [url, countArg, concurrencyArg, bytesArg] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const db = openDatabase(url, { poolSize: concurrency });
await db.kysely.schema.dropTable("bench_raw").ifExists().execute();
await db.kysely.schema
  .createTable("bench_raw")
  .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
  .addColumn("payload", "blob", (c) => c.notNull())
  .execute();
const payloads = Array.from({ length: count }, () => randomBytes(Number(bytesArg)));
console.log("ready");

async function run() {
  const cpu0 = process.cpuUsage();
  const latencies = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const payload = payloads[next++];
        const s = performance.now();
        await db.kysely.insertInto("bench_raw").values({ payload }).execute();
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await db.kysely.schema.dropTable("bench_raw").execute();
  await db.close();
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ count, seconds, cpuMs: (cpu.user + cpu.system) / 1000, p50: latencies[Math.floor(count / 2)], p99: latencies[Math.floor(count * 0.99)] }));
}
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line === "go") run().then(() => process.exit(0));
  })
  .on("close", () => process.exit(1)); // the bench is gone
