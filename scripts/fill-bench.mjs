// `npm run bench:fill`: grows a vote database to a national election's size cheaply, driving
// vote-server's ballot box and repository in this process (no gRPC, no auth), and reports how
// the append behaves as the tables grow: commits of FILL_BATCH ballots across FILL_ELECTIONS
// elections, each voter once in each election (as `npm run bench` casts them).
// Run `npx tsc -b` first (it uses vote-server's dist/). The database is kept, so a later run
// continues where the last stopped (and can measure at the same size again), given the same
// FILL_ORDER and FILL_VOTERS (other voters would repeat ballots already cast).
//
//   FILL_URL=mysql://root@127.0.0.1:3306/voting_fill FILL_BALLOTS=1000000 npm run bench:fill
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpuSeconds, mariadbPid, pct, round } from "./bench/lib.mjs";

const env = process.env;
const URL_ = env.FILL_URL ?? "mysql://root@127.0.0.1:3306/voting_fill";
const TARGET = Number(env.FILL_BALLOTS ?? 1_000_000);
const ELECTIONS = Number(env.FILL_ELECTIONS ?? 10);
const BATCH = Number(env.FILL_BATCH ?? 64);
const EVERY = Number(env.FILL_REPORT_EVERY ?? 50_000);
// Voters in id order (as the bench's voters come), or "random": a fixed permutation of
// FILL_VOTERS ids, as a real electorate arrives, so participations land all over their index.
const ORDER = env.FILL_ORDER ?? "id";
const VOTERS = Number(env.FILL_VOTERS ?? 100_000);
// Stop after this many ballots in this run (e.g. to measure a window at a given size).
const THIS_RUN = Number(env.FILL_THIS_RUN ?? Infinity);

const { openDatabase, migrate } = await import("@voting/server-kit");
const { sql } = await import("kysely");
const { generateEd25519Seed } = await import("@voting/election-core");
const dist = (p) => import(new URL(`../vote-server/dist/${p}`, import.meta.url).href);
const { ballotRepository } = await dist("db/ballot-repository.js");
const { electionRepository } = await dist("db/election-repository.js");
const { voteMigrations } = await dist("db/migrations.js");
const { ballotBox } = await dist("domain/ballot-box.js");
const { logSigner } = await dist("domain/transparency-log.js");
const { defaultElection, definitionHash } = await dist("domain/elections.js");

const mysql = URL_.startsWith("mysql://");
if (mysql) {
  // The database itself is made here (the URL names it).
  const u = new URL(URL_);
  const name = u.pathname.slice(1);
  u.pathname = "/";
  const m = (await import("mysql2/promise")).default;
  const c = await m.createConnection({ uri: u.href });
  await c.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
  await c.end();
}
const db = openDatabase(URL_, { poolSize: 4 });
await migrate(db, "vote_migrations", voteMigrations(db.dialect));
const elections = electionRepository(db);
const k = db.kysely;

let ids = (await k.selectFrom("elections").select(["id", "title"]).where("title", "like", "fill %").orderBy("id").execute()).map((r) => Number(r.id));
if (ids.length === 0) {
  // The general election takes id 1, as vote-server would at its first start.
  await elections.ensure(defaultElection());
  for (let i = 0; i < ELECTIONS; i++) {
    const e = await elections.create({ title: `fill ${i + 1}`, description: "", method: "plurality", seats: 1, candidates: ["A", "B", "C", "D", "E"], resultsWhileOpen: true, voterRoll: [] });
    ids.push((await elections.transition(e.id, "draft", "open", definitionHash)).id);
  }
}
const heads = await k.selectFrom("elections").select(["head_seq"]).where("id", "in", ids).execute();
// Ballots are cast in a fixed order (voter by voter, each in every election) and every commit is
// all or nothing, so the heads' sum is how far the order has gone.
let done = heads.reduce((n, h) => n + Number(h.head_seq), 0);

const key = generateEd25519Seed();
const box = ballotBox(ballotRepository(db), { batchMax: 5000, lingerMs: 0, signer: logSigner("fill.bench", () => ({ seed: key.seed, publicKey: key.publicKey })), onAppended: () => undefined });

const STATUS = ["Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_reads", "Innodb_data_reads", "Innodb_data_read", "Innodb_data_writes", "Innodb_data_written", "Innodb_os_log_written", "Innodb_buffer_pool_pages_flushed", "Innodb_data_fsyncs", "Innodb_buffer_pool_wait_free", "Innodb_row_lock_time"];
const GAUGES = ["Innodb_buffer_pool_pages_data", "Innodb_buffer_pool_pages_dirty", "Innodb_buffer_pool_pages_free", "Innodb_checkpoint_age"];
async function status() {
  if (!mysql) return {};
  const { rows } = await sql`show global status where Variable_name in (${sql.join([...STATUS, ...GAUGES])})`.execute(k);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}
/** Data and index MB per table (InnoDB's estimates). */
async function sizes() {
  if (!mysql) return {};
  const { rows } = await sql`select table_name t, data_length d, index_length i from information_schema.tables where table_schema = database()`.execute(k);
  return Object.fromEntries(rows.filter((r) => Number(r.d) + Number(r.i) > 1048576).map((r) => [r.t, Math.round((Number(r.d) + Number(r.i)) / 1048576)]));
}

/** The pid of the server this URL reaches (its pid file), else any local mariadbd's. */
async function serverPid() {
  try {
    const { rows } = await sql`select @@pid_file as f`.execute(k);
    return Number(readFileSync(rows[0].f, "utf8").trim());
  } catch {
    return mariadbPid();
  }
}
const dbPid = mysql ? await serverPid() : undefined;
const castAt = (i) => {
  const electionId = ids[i % ids.length];
  const k = Math.floor(i / ids.length);
  // 48271 is prime and divides no power of ten: a permutation of 0..VOTERS-1 for round VOTERS.
  const voterId = ORDER === "random" && k < VOTERS ? ((k * 48271) % VOTERS) + 1 : k + 1;
  return { electionId, voterId, choices: [1 + (voterId % 5)], idempotencyKey: randomBytes(16) };
};
const loadavg = () => {
  try {
    return execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
  } catch {
    return "";
  }
};

console.log(`fill: ${URL_.replace(/\/\/[^@]*@/, "//")}, ${ids.length} elections, ${done} ballots stored, to ${TARGET}, commits of ${BATCH}, voters in ${ORDER} order; mariadbd pid ${dbPid ?? "-"}`);
let ranThisRun = 0;
while (done < TARGET && ranThisRun < THIS_RUN) {
  const window = Math.min(EVERY, TARGET - done, THIS_RUN - ranThisRun);
  const s0 = await status();
  const c0 = process.cpuUsage();
  const d0 = dbPid ? cpuSeconds(dbPid) : 0;
  const t0 = performance.now();
  const latencies = [];
  for (let n = 0; n < window; n += BATCH) {
    const casts = [];
    for (let j = 0; j < Math.min(BATCH, window - n); j++) casts.push(castAt(done + n + j));
    const start = performance.now();
    await Promise.all(casts.map((c) => box.cast(c)));
    latencies.push(performance.now() - start);
  }
  const wall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const dbCpu = dbPid ? cpuSeconds(dbPid) - d0 : NaN;
  const s1 = await status();
  done += window;
  ranThisRun += window;
  latencies.sort((a, b) => a - b);
  const delta = Object.fromEntries(STATUS.map((n) => [n, (s1[n] ?? NaN) - (s0[n] ?? NaN)]));
  const row = {
    ballots: done,
    perSecond: round(window / wall, 0),
    commitMs: { mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length, 1), p50: round(pct(latencies, 50), 1), p99: round(pct(latencies, 99), 1) },
    nodeCpuMsPerBallot: round(((c1.user + c1.system) / 1000) / window, 3),
    mariadbdCpuMsPerBallot: round((dbCpu * 1000) / window, 3),
    perBallot: {
      poolReadRequests: round(delta.Innodb_buffer_pool_read_requests / window, 1),
      poolReads: round(delta.Innodb_buffer_pool_reads / window, 3),
      dataReads: round(delta.Innodb_data_reads / window, 3),
      dataWrites: round(delta.Innodb_data_writes / window, 3),
      redoBytes: round(delta.Innodb_os_log_written / window, 0),
      pagesFlushed: round(delta.Innodb_buffer_pool_pages_flushed / window, 3),
      fsyncs: round(delta.Innodb_data_fsyncs / window, 3),
    },
    poolWaitFree: delta.Innodb_buffer_pool_wait_free,
    pool: mysql ? { data: s1.Innodb_buffer_pool_pages_data, dirty: s1.Innodb_buffer_pool_pages_dirty, free: s1.Innodb_buffer_pool_pages_free, checkpointAgeMB: round(s1.Innodb_checkpoint_age / 1048576, 1) } : undefined,
    tablesMB: await sizes(),
    loadavg: loadavg(),
  };
  console.log(JSON.stringify(row));
}
await db.close();
