#!/usr/bin/env node
// `npm run bench:recount`: accuracy at scale. Appends RECOUNT_BALLOTS ranked ballots (default
// 1,000,000 x 10 positions = 10,000,000 ballot positions) to an IRV election's ballot log
// through vote-server's own ballot box (group commit, hash chain), lets the real tally-server
// follow the log over gRPC and count it, then recounts the raw log independently (its own
// SHA-256 chain check and a ballot-by-ballot IRV written here, sharing no code with the
// tally library) and compares every round. Exits 1 on any difference.
//
// It prints the follow rate (ballots/s from the servers' start to the last ballot counted,
// read from tally-server's /metrics so that polling costs the follow nothing), the time of
// `voting audit` and, beside it, the limit it is measured against: a fresh Node process
// reading the same log (the file audit wrote) and hashing every entry, and the ratio.
// RECOUNT_DATA=<dir> keeps the appended log there and reuses it on the next run (the
// tally's tables are emptied first), so before/after runs follow the same log.
// RECOUNT_PROFILE=<dir> writes .cpuprofile files of the servers and of the audit.
// RECOUNT_TALLY_MYSQL=<server URL, e.g. mysql://root@127.0.0.1:3306> puts tally-server's own
// tables (progress and counts) in a fresh MySQL/MariaDB database there, dropped at the end;
// the log stays in SQLite. The CPU of mariadbd/mysqld per ballot is printed beside it.
import { spawn, spawnSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { CPU_HOOK, cpuOf, readAndHash } from "./bench/lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
if (spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);

const N = Number(process.env.RECOUNT_BALLOTS ?? 1_000_000);
const CANDIDATES = 10;
const { ensureServiceKeyFiles, openDatabase, migrate } = await import("@voting/server-kit");
const { createVotingClient } = await import("@voting/client");
const { voteMigrations } = await import("../vote-server/dist/db/migrations.js");
const { ballotRepository } = await import("../vote-server/dist/db/ballot-repository.js");
const { electionRepository } = await import("../vote-server/dist/db/election-repository.js");
const { ballotBox } = await import("../vote-server/dist/domain/ballot-box.js");
const { electionAdmin } = await import("../vote-server/dist/domain/election-admin.js");
const { logSigner } = await import("../vote-server/dist/domain/transparency-log.js");
const Database = require(require.resolve("better-sqlite3", { paths: [join(root, "server-kit")] }));

const keep = process.env.RECOUNT_DATA;
const PROFILE = process.env.RECOUNT_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.RECOUNT_PROFILE] : [];
const dir = keep ?? mkdtempSync(join(tmpdir(), "voting-recount-"));
mkdirSync(dir, { recursive: true });
const file = join(dir, "voting.sqlite");
const kept = join(dir, "election.json");
const reuse = keep !== undefined && existsSync(kept) && JSON.parse(readFileSync(kept, "utf8")).ballots === N;
const url = `sqlite:${file}`;
const serviceKeyEnv = () => {
  const keys = ensureServiceKeyFiles(join(dir, "keys"));
  return { SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile, VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"], TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"] };
};
// The key-encryption key of the stored signing keys: kept with a kept log.
const kek = (() => {
  const f = join(dir, "kek");
  if (keep && existsSync(f)) return readFileSync(f, "utf8");
  const k = randomBytes(32).toString("base64");
  if (keep) writeFileSync(f, k);
  return k;
})();
// The transparency log's key: the ballot box signs checkpoints with it here, vote-server later.
const logKeyFile = join(dir, "log-key.pem");
if (!existsSync(logKeyFile)) writeFileSync(logKeyFile, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
const logKey = createPrivateKey(readFileSync(logKeyFile));
const signer = logSigner("voting.example", () => ({
  seed: Buffer.from(logKey.export({ format: "jwk" }).d, "base64url"),
  publicKey: Buffer.from(createPublicKey(logKey).export({ format: "jwk" }).x, "base64url"),
}));
// tally-server's store: the log's SQLite file, or a fresh MySQL/MariaDB database.
const tallyMysql = process.env.RECOUNT_TALLY_MYSQL?.replace(/\/+$/, "");
const tallyDbName = `recount_tally_${randomBytes(4).toString("hex")}`;
const mysqlAdmin = async (statement) => {
  const mysql = require(require.resolve("mysql2/promise", { paths: [join(root, "server-kit")] }));
  const c = await mysql.createConnection({ uri: tallyMysql });
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
};
if (tallyMysql) await mysqlAdmin(`create database \`${tallyDbName}\``);
const tallyUrl = tallyMysql ? `${tallyMysql}/${tallyDbName}` : url;
const mysqldPid = tallyMysql ? spawnSync("pgrep", ["-o", "-x", "mariadbd|mysqld"], { encoding: "utf8" }).stdout.trim() : "";
const t = (label, since) => console.log(`${label}: ${((performance.now() - since) / 1000).toFixed(1)} s`);

// 1. The election and its ballots, through vote-server's ballot box.
if (keep && !reuse) for (const f of ["", "-wal", "-shm"]) rmSync(file + f, { force: true });
const db = openDatabase(url);
await migrate(db, "vote_migrations", voteMigrations(db.dialect));
const elections = electionRepository(db);
const admin = electionAdmin(elections);
const names = Array.from({ length: CANDIDATES }, (_, i) => `Candidate ${String.fromCharCode(65 + i)}`);
const created = reuse ? { id: JSON.parse(readFileSync(kept, "utf8")).id } : await admin.create({ title: "Recount at scale", description: "", method: "irv", seats: 1, candidates: names, resultsWhileOpen: true, voterRoll: [] });
if (!reuse) await admin.open(created.id);
const box = ballotBox(ballotRepository(db), { batchMax: 2000, lingerMs: 0, onAppended() {}, signer });

// Voters in blocs with noise: preferences with structure, so IRV takes several rounds.
function ballot(i) {
  let x = (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32;
  const next = () => (x = (Math.imul((x * 2 ** 32) | 0, 1664525) + 1013904223 >>> 0) / 2 ** 32);
  const bloc = Math.floor(next() * 4);
  const weights = Array.from({ length: CANDIDATES }, (_, c) => next() + (c % 4 === bloc ? 1.5 : 0) + (c === bloc * 2 ? 0.8 : 0) - c * 0.05);
  return weights.map((w, c) => [w, c + 1]).sort((a, b) => b[0] - a[0]).map(([, c]) => c);
}

let start = performance.now();
const key = () => randomBytes(16);
for (let i = 0; i < N && !reuse; i += 20_000) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 20_000); j++) batch.push(box.cast({ electionId: created.id, voterId: j + 1, choices: ballot(j), idempotencyKey: key() }));
  await Promise.all(batch);
  if ((i / 20_000) % 10 === 0) process.stdout.write(`  appended ${i + batch.length}\r`);
}
if (reuse) console.log(`reusing the ${N}-ballot log in ${dir}`);
else t(`appended ${N} ballots (${N * CANDIDATES} positions)`, start);
await db.close();
if (keep) writeFileSync(kept, JSON.stringify({ id: created.id, ballots: N }));
if (reuse) {
  // The tally starts from nothing, as on the first run.
  const raw = new Database(file);
  for (const table of ["tally_progress", "tally_ballots", "tally_statements"]) {
    if (raw.prepare("select 1 from sqlite_master where name = ?").get(table)) raw.prepare(`delete from ${table}`).run();
  }
  raw.close();
}

// 2. The real servers: tally-server follows the log over gRPC and counts it.
// Below the ephemeral range (32768-60999), where an outgoing connection can hold the port.
const port = 24000 + Math.floor(Math.random() * 300) * 3;
const env = {
  ...process.env, DATABASE_URL: url, HOST: "127.0.0.1", LOG_LEVEL: "warn", ...serviceKeyEnv(),
  KEY_ENCRYPTION_KEY: kek, VOTE_LOG_KEY_FILE: logKeyFile,
  ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", AUTH_PORT: String(port), VOTE_PORT: String(port + 1), TALLY_PORT: String(port + 2),
  AUTH_ADDR: `127.0.0.1:${port}`, VOTE_ADDR: `127.0.0.1:${port + 1}`, TALLY_METRICS_PORT: String(port + 3),
};
start = performance.now();
const children = ["auth-server", "vote-server", "tally-server"].map((name) =>
  spawn(process.execPath, [...PROFILE, `${name}/dist/main.js`], { cwd: root, env: name === "tally-server" ? { ...env, DATABASE_URL: tallyUrl } : env, stdio: "inherit" }),
);
const client = createVotingClient({ authAddr: env.AUTH_ADDR, voteAddr: env.VOTE_ADDR, tallyAddr: `127.0.0.1:${port + 2}` });
// Progress from /metrics: a GetResults poll would recount the election each time, on the follower's CPU.
let transactions = 0;
const countedSoFar = async () => {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port + 3}/metrics`)).text();
    transactions = Number(/^tally_apply_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
    return Number(/^tally_ballots_counted_total (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return -1;
  }
};
// CPU of a process so far (user + system), from /proc: what each ballot costs whatever the machine's load.
const cpuSeconds = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
};
let firstCounted;
let cpuAtFirst;
let mysqldAtFirst;
// tally-server starts following right after its metrics port answers: CPU from then on is the
// whole follow's. (From the first counted batch on, as measured before, leaves out what was
// verified before the first commit was seen, up to a poll interval's worth.)
let cpuAtUp;
let mysqldAtUp;
while ((await countedSoFar()) < 0) await new Promise((r) => setTimeout(r, 10));
cpuAtUp = children.map((c) => cpuSeconds(c.pid));
mysqldAtUp = mysqldPid ? cpuSeconds(mysqldPid) : NaN;
for (;;) {
  const n = await countedSoFar();
  if (n > 0 && firstCounted === undefined) {
    firstCounted = performance.now();
    cpuAtFirst = children.map((c) => cpuSeconds(c.pid));
    mysqldAtFirst = mysqldPid ? cpuSeconds(mysqldPid) : NaN;
  }
  if (n >= N) break;
  if (n > 0) process.stdout.write(`  tally counted ${n}\r`);
  await new Promise((r) => setTimeout(r, 250));
}
const followS = (performance.now() - start) / 1000;
const streamingS = (performance.now() - firstCounted) / 1000;
const cpuUs = children.map((c, i) => ((cpuSeconds(c.pid) - cpuAtFirst[i]) * 1e6) / N);
const wholeUs = children.map((c, i) => ((cpuSeconds(c.pid) - cpuAtUp[i]) * 1e6) / N);
const mysqldUs = mysqldPid ? ((cpuSeconds(mysqldPid) - mysqldAtUp) * 1e6) / N : undefined;
console.log(
  `tally-server followed and counted the log: ${followS.toFixed(1)} s incl. start-up, ${Math.round(N / followS)} ballots/s ` +
    `(${Math.round(N / streamingS)} ballots/s from the first counted batch; CPU per ballot meanwhile: tally-server ${cpuUs[2].toFixed(1)} µs, ` +
    `vote-server ${cpuUs[1].toFixed(1)} µs, so ${Math.round(1e6 / cpuUs[2])} ballots/s for tally-server with a core of its own; ${transactions} tally transactions)`,
);
console.log(
  `CPU per ballot over the whole follow (from tally-server's metrics port answering): tally-server ${wholeUs[2].toFixed(1)} µs ` +
    `(${Math.round(1e6 / wholeUs[2])} ballots/s with a core of its own), vote-server ${wholeUs[1].toFixed(1)} µs`,
);
if (tallyMysql) console.log(`tally-server's store: MySQL/MariaDB database ${tallyDbName}; mysqld CPU per ballot over the whole follow: ${mysqldUs?.toFixed(1) ?? "?"} µs (every client's, not only tally-server's)`);
start = performance.now();
const result = (await client.tally.getResults({ electionId: created.id }, { deadlineMs: 120_000 })).result;
t("first GetResults after the follow (IRV over the counted multiset)", start);
client.close();

// `voting audit` of the whole log, as an auditor would run it (while the servers still run).
// Twice: the audit itself (download, verify, recount), then with --out, which also writes the
// log to a file (the read+hash limit below reads that file).
const audit = (extra) => {
  const began = performance.now();
  const voteCpuBefore = cpuSeconds(children[1].pid);
  const run = spawnSync(process.execPath, [...CPU_HOOK, ...PROFILE, join(root, "client/bin/voting.js"), "audit", "--election", String(created.id), ...extra, "--json"], {
    env: { ...process.env, AUTH_ADDR: env.AUTH_ADDR, VOTE_ADDR: env.VOTE_ADDR, TALLY_ADDR: `127.0.0.1:${port + 2}`, VOTING_CONFIG_DIR: join(dir, "cli") },
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  const wall = (performance.now() - began) / 1000;
  const cpu = cpuOf(run.stderr);
  const voteUs = ((cpuSeconds(children[1].pid) - voteCpuBefore) * 1e6) / N;
  console.log(`voting audit ${extra.length ? "--out " : ""}of the whole log (exit ${run.status}): ${wall.toFixed(1)} s, ${cpu.toFixed(1)} s CPU in the CLI, vote-server ${voteUs.toFixed(1)} µs CPU per entry served meanwhile`);
  if (run.status !== 0) console.log(run.stderr.trim());
  return { run, wall, cpu };
};
const plain = audit([]);
const { run: auditRun, wall: auditS, cpu: auditCpu } = audit(["--out", join(dir, "log.jsonl")]);
// One after the other, callers first: a server whose peer stopped first logs that it cannot reach it.
for (const c of [...children].reverse()) {
  const exited = c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined;
  c.kill("SIGTERM");
  await exited;
}
if (tallyMysql) {
  await mysqlAdmin(`drop database if exists \`${tallyDbName}\``);
}

// The limit for audit: a fresh Node process reads the same entries (the file audit wrote) and
// hashes each of them once with SHA-256.
if (auditRun.status === 0) {
  const logFile = join(dir, "log.jsonl");
  const { entries, wall: baseS, cpu: baseCpu } = readAndHash(logFile);
  const bytes = statSync(logFile).size;
  console.log(
    `read and hash the same log locally (${entries} entries, ${(bytes / 1e6).toFixed(0)} MB, one SHA-256 per entry, fresh Node process): ${baseS.toFixed(2)} s, ${baseCpu.toFixed(2)} s CPU; ` +
      `audit --out / that = ${(auditS / baseS).toFixed(1)} (wall), ${(auditCpu / baseCpu).toFixed(1)} (CPU); audit / that = ${(plain.wall / baseS).toFixed(1)} (wall), ${(plain.cpu / baseCpu).toFixed(1)} (CPU)`,
  );
}

// 3. The independent recount, from the raw table.
start = performance.now();
const raw = new Database(file, { readonly: true });
const head = raw.prepare("select genesis_hash, head_hash, head_seq, log_format from elections where id = ?").get(created.id);
if (Number(head.log_format) !== 2) throw new Error(`expected log format 2, found ${head.log_format}`);
let prev = Buffer.from(head.genesis_hash, "hex");
let expectedSeq = 1;
const rankings = [];
for (const row of raw.prepare("select seq, tracking_code, choices, commitment, salt, hash from ballots where election_id = ? order by seq").iterate(created.id)) {
  if (Number(row.seq) !== expectedSeq) throw new Error(`gap at seq ${expectedSeq}`);
  // Format 2 (docs/ballot-log.md): the salt and choices open the commitment; the entry bytes carry the commitment.
  if (!/^[0-9a-f]{64}$/.test(row.salt)) throw new Error(`no salt at seq ${row.seq}`);
  const opened = createHash("sha256").update("voting-ballot-commitment-v2\n").update(Buffer.from(row.salt, "hex")).update(`${row.choices}\n`).digest("hex");
  if (opened !== row.commitment) throw new Error(`ballot at seq ${row.seq} does not open its commitment`);
  const bytes = Buffer.from(`voting-ballot-log-v2\n${created.id}\n${row.seq}\n${row.tracking_code}\n${row.commitment}\n`);
  const h = createHash("sha256").update(prev).update(bytes).digest();
  if (h.toString("hex") !== row.hash) throw new Error(`chain broken at seq ${row.seq}`);
  prev = h;
  expectedSeq++;
  rankings.push(row.choices.split(",").map(Number));
}
raw.close();
if (prev.toString("hex") !== head.head_hash || rankings.length !== N) throw new Error("head mismatch");

// Ballot-by-ballot IRV: eliminate the lowest (no ties expected at this size) until a majority.
const rounds = [];
const out = new Set();
let exhausted = 0;
for (;;) {
  const counts = new Map(names.map((_, i) => [i + 1, 0]).filter(([c]) => !out.has(c)));
  exhausted = 0;
  for (const r of rankings) {
    const top = r.find((c) => !out.has(c));
    if (top === undefined) exhausted++;
    else counts.set(top, counts.get(top) + 1);
  }
  rounds.push({ counts, exhausted });
  const continuing = N - exhausted;
  const [leader, most] = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (most * 2 > continuing || counts.size === 1) {
    rounds.winner = leader;
    break;
  }
  out.add([...counts].sort((a, b) => a[1] - b[1])[0][0]);
}
t("independent recount (chain check + ballot-by-ballot IRV)", start);

// 4. Compare.
const differences = [];
if (result.winners[0] !== rounds.winner) differences.push(`winner: tally ${result.winners[0]}, recount ${rounds.winner}`);
const decisive = rounds.length;
const tallyRounds = result.rounds.length;
if (tallyRounds !== decisive) differences.push(`rounds: tally ${tallyRounds}, recount ${decisive}`);
for (let i = 0; i < Math.min(tallyRounds, decisive); i++) {
  for (const [c, v] of rounds[i].counts) {
    const got = result.rounds[i].counts.find((x) => x.candidateId === c)?.votes;
    if (got !== String(v)) differences.push(`round ${i + 1}, candidate ${c}: tally ${got}, recount ${v}`);
  }
  if (result.rounds[i].exhausted !== String(rounds[i].exhausted)) differences.push(`round ${i + 1} exhausted: tally ${result.rounds[i].exhausted}, recount ${rounds[i].exhausted}`);
}
if (keep) rmSync(join(dir, "log.jsonl"), { force: true });
else rmSync(dir, { recursive: true, force: true });
console.log(`${N} ballots, ${N * CANDIDATES} ballot positions, ${decisive} rounds, winner ${names[rounds.winner - 1]}: ${differences.length === 0 ? "zero differences" : `${differences.length} DIFFERENCES`}`);
for (const d of differences.slice(0, 20)) console.log(`  ${d}`);
process.exit(differences.length === 0 && auditRun.status === 0 ? 0 : 1);
