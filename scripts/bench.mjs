#!/usr/bin/env node
// `npm run bench`: durable votes per second and live-tally lag, against the real servers
// (built, one child process each, as `npm start` runs them) on SQLite and, when it answers,
// the local MariaDB. The load generator is this process, on the same machine.
// Options (env): BENCH_VOTERS (default 4000), BENCH_CONCURRENCY (default 64),
// BENCH_STORES (default "sqlite,mysql"), BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306),
// BENCH_STREAMS (default 5000; 0 skips): a second round of as many votes is cast while that many
// anonymous StreamBallots follow streams (a child process, bench-followers.mjs) are open, and
// its votes/s is compared with the mean of the rounds just before and just after (the
// machine is shared, so load drifts).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const build = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(1);

const { createVotingClient, authV1 } = await import("@voting/client");
const { ensureServiceKeyFiles } = await import("@voting/server-kit");
const mysql = (await import("mysql2/promise")).default;

const VOTERS = Number(process.env.BENCH_VOTERS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const STORES = (process.env.BENCH_STORES ?? "sqlite,mysql").split(",");
const MYSQL = process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const STREAMS = Number(process.env.BENCH_STREAMS ?? 5000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function pool(items, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Service keys for vote-server and tally-server, in a fresh temp dir per run. */
function serviceKeyEnv() {
  const keys = ensureServiceKeyFiles(join(mkdtempSync(join(tmpdir(), "voting-bench-keys-")), "keys"));
  return { SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile, VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"], TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"] };
}

async function startServers(databaseUrl, basePort) {
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    ...serviceKeyEnv(),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    // Setup registers thousands of users; OWASP-strength hashing is measured separately.
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    AUTH_PORT: String(basePort),
    VOTE_PORT: String(basePort + 1),
    TALLY_PORT: String(basePort + 2),
    AUTH_ADDR: `127.0.0.1:${basePort}`,
    VOTE_ADDR: `127.0.0.1:${basePort + 1}`,
    LOGIN_MAX_ATTEMPTS_PER_PEER: "1000000",
    // The follow streams all come from this machine's address.
    STREAM_MAX_PER_CALLER: String(STREAMS + 100),
    REGISTER_MAX_PER_PEER: "1000000",
  };
  const children = [];
  const client = createVotingClient({ authAddr: env.AUTH_ADDR, voteAddr: env.VOTE_ADDR, tallyAddr: `127.0.0.1:${basePort + 2}` });
  for (const name of ["auth-server", "vote-server", "tally-server"]) {
    children.push(spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : []), `${name}/dist/main.js`], { cwd: root, env, stdio: "inherit" }));
    await sleep(300);
  }
  for (let i = 0; i < 100; i++) {
    try {
      await client.tally.getResults({}, { deadlineMs: 1000 });
      break;
    } catch {
      await sleep(200);
    }
  }
  return {
    client,
    pids: children.map((c) => c.pid),
    voteAddr: env.VOTE_ADDR,
    async stop() {
      client.close();
      await Promise.all(children.map((c) => new Promise((r) => (c.on("exit", r), c.kill("SIGTERM")))));
    },
  };
}

/** utime + stime in seconds of each server process (auth, vote, tally), from /proc. */
function cpuSeconds(pids) {
  return pids.map((pid) => {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(stat[11]) + Number(stat[12])) / 100;
  });
}

/** Casts one ballot per token; the tally must reach `expectTotal` ballots. */
async function castRound(sys, candidates, tokens, expectTotal) {
  const anon = sys.client;
  // One channel for the whole load, a token per call.
  const latencies = [];
  const cpuBefore = cpuSeconds(sys.pids);
  const loadCpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  let failures = 0;
  await pool(tokens, CONCURRENCY, async (token) => {
    const t0 = process.hrtime.bigint();
    try {
      await anon.votes.castVote({ ballot: { choices: [candidates[latencies.length % candidates.length]] } }, { token });
    } catch {
      failures++;
    }
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const lastAck = Date.now();
  const cpuAfter = cpuSeconds(sys.pids);
  const cpu = cpuAfter.map((c, i) => c - cpuBefore[i]);
  const loadCpu = process.cpuUsage(loadCpuBefore);
  let lag;
  for (;;) {
    const r = (await anon.tally.getResults({})).result;
    if (r.totalBallots >= expectTotal - failures) {
      lag = Date.now() - lastAck;
      break;
    }
    await sleep(5);
  }
  return { latencies, seconds, cpu, loadCpu, failures, lag };
}

/** Opens `count` follow streams from a child process, each from `head - 1` so that its first message proves it open. */
async function openFollowers(voteAddr, count, head) {
  const child = spawn(process.execPath, [join(root, "scripts", "bench-followers.mjs"), voteAddr, String(count), "0", String(Math.max(0, head - 1))], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const t0 = Date.now();
  const first = await Promise.race([lines.next(), sleep(120_000).then(() => ({ value: "timeout" }))]);
  if (first.value !== "ready") throw new Error(`follow streams did not open: ${first.value}`);
  process.stdout.write(`${count} follow streams open in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return {
    async report() {
      child.stdin.write("report\n");
      return JSON.parse((await lines.next()).value);
    },
    stop: () => new Promise((r) => (child.on("exit", r), child.kill("SIGTERM"))),
  };
}

async function benchStore(store) {
  let databaseUrl;
  let cleanup;
  if (store === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "voting-bench-"));
    databaseUrl = `sqlite:${join(dir, "voting.sqlite")}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `voting_bench_${randomBytes(4).toString("hex")}`;
    try {
      const c = await mysql.createConnection({ uri: MYSQL });
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
    } catch (err) {
      console.log(`mysql: skipped (${err.message})`);
      return undefined;
    }
    databaseUrl = `${MYSQL}/${name}`;
    cleanup = async () => {
      const c = await mysql.createConnection({ uri: MYSQL });
      await c.query(`DROP DATABASE ${name}`);
      await c.end();
    };
  }
  const sys = await startServers(databaseUrl, 52000 + Math.floor(Math.random() * 1000) * 3);
  try {
    const anon = sys.client;
    const tag = randomBytes(3).toString("hex");
    const candidates = [];
    for (let i = 0; i < 5; i++) {
      const r = await anon.auth.register({ username: `bench-c${i}-${tag}`, password: "bench-password", role: authV1.Role.ROLE_CANDIDATE });
      candidates.push(r.user.id);
    }
    const tokens = [];
    const setupStart = Date.now();
    await pool([...Array((STREAMS > 0 ? 3 * VOTERS : VOTERS) + Math.ceil(VOTERS / 4)).keys()], 32, async (i) => {
      const username = `bench-v${i}-${tag}`;
      await anon.auth.register({ username, password: "bench-password", role: authV1.Role.ROLE_VOTER });
      tokens.push((await anon.auth.login({ username, password: "bench-password" })).tokens.accessToken);
    });
    process.stdout.write(`${store}: ${tokens.length} voters registered and logged in in ${((Date.now() - setupStart) / 1000).toFixed(1)} s\n`);

    // Warm-up (JIT, caches, connections), not measured.
    const warm = tokens.splice(0, Math.ceil(VOTERS / 4));
    await castRound(sys, candidates, warm, warm.length);
    const base = warm.length;
    const round = await castRound(sys, candidates, tokens.slice(0, VOTERS), base + VOTERS);
    const { latencies, seconds, cpu, loadCpu, failures, lag } = round;
    let withStreams;
    if (STREAMS > 0) {
      const head = (await anon.elections.getElection({})).election.ballotCount;
      const followers = await openFollowers(sys.voteAddr, STREAMS, head);
      const second = await castRound(sys, candidates, tokens.slice(VOTERS, 2 * VOTERS), base + 2 * VOTERS);
      const finalHead = (await anon.elections.getElection({})).election.ballotCount;
      let seen;
      for (let i = 0; i < 100; i++) {
        seen = await followers.report();
        if (seen.sampleLastSeq.every((s) => s === finalHead) || Object.keys(seen.errors).length > 0) break;
        await sleep(100);
      }
      await followers.stop();
      const after = await castRound(sys, candidates, tokens.slice(2 * VOTERS), base + 3 * VOTERS);
      const vps = (r) => Math.round((VOTERS - r.failures) / r.seconds);
      const votesPerSecond = vps(second);
      withStreams = {
        streams: STREAMS,
        votesPerSecond,
        votesPerSecondWithoutBefore: vps(round),
        votesPerSecondWithoutAfter: vps(after),
        ratio: +(votesPerSecond / ((vps(round) + vps(after)) / 2)).toFixed(2),
        p50ms: +pct(second.latencies.sort((a, b) => a - b), 50).toFixed(2),
        p99ms: +pct(second.latencies, 99).toFixed(2),
        cpuMsPerVote: { vote: +((second.cpu[1] * 1000) / VOTERS).toFixed(3) },
        tallyLagAfterLastAckMs: second.lag,
        followers: { open: seen.open, mb: +(seen.bytes / 1e6).toFixed(1), errors: seen.errors, sampled: seen.sampled, sampleGaps: seen.sampleGaps, sampleCaughtUp: seen.sampleLastSeq.every((s) => s === finalHead), sampleLastSeq: seen.sampleLastSeq, finalHead, cpuMsPerVote: +((seen.cpuSeconds * 1000) / VOTERS).toFixed(3) },
      };
    }
    latencies.sort((a, b) => a - b);
    return {
      store,
      voters: VOTERS,
      concurrency: CONCURRENCY,
      failures,
      votesPerSecond: Math.round((VOTERS - failures) / seconds),
      p50ms: +pct(latencies, 50).toFixed(2),
      p99ms: +pct(latencies, 99).toFixed(2),
      cpuMsPerVote: {
        vote: +((cpu[1] * 1000) / VOTERS).toFixed(3),
        tally: +((cpu[2] * 1000) / VOTERS).toFixed(3),
        auth: +((cpu[0] * 1000) / VOTERS).toFixed(3),
        loadGenerator: +((loadCpu.user + loadCpu.system) / 1000 / VOTERS).toFixed(3),
      },
      tallyLagAfterLastAckMs: lag,
      withStreams,
    };
  } finally {
    await sys.stop();
    await cleanup();
  }
}

async function argon2Login() {
  const argon2 = require(require.resolve("argon2", { paths: [join(root, "auth-server")] }));
  const opts = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const hash = await argon2.hash("bench-password", opts);
  const n = 20;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await argon2.verify(hash, "bench-password");
  return +(Number(process.hrtime.bigint() - t0) / 1e6 / n).toFixed(1);
}

const results = [];
for (const store of STORES) {
  const r = await benchStore(store);
  if (r) {
    results.push(r);
    console.log(JSON.stringify(r));
  }
}
const argonMs = await argon2Login();
console.log(`argon2id verify at OWASP parameters (m=19 MiB, t=2, p=1): ${argonMs} ms`);

const report = { date: new Date().toISOString(), machine: `${cpus().length} cores, node ${process.version}`, castVote: results, argon2VerifyMs: argonMs };
mkdirSync(join(root, "bench-results"), { recursive: true });
const file = join(root, "bench-results", `bench-${Date.now()}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n| store | votes/s | p50 ms | p99 ms | CPU ms/vote: vote-server | tally-server | load generator | tally lag after last ack |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of results) {
  const c = r.cpuMsPerVote;
  console.log(`| ${r.store} | ${r.votesPerSecond} | ${r.p50ms} | ${r.p99ms} | ${c.vote} | ${c.tally} | ${c.loadGenerator} | ${r.tallyLagAfterLastAckMs} ms |`);
}
if (results.some((r) => r.withStreams)) {
  console.log(`\n| store | votes/s without streams (before / after) | follow streams open | votes/s with them | ratio | p99 ms with them | vote-server CPU ms/vote with them | tally lag with them |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const r of results.filter((x) => x.withStreams)) {
    const w = r.withStreams;
    console.log(`| ${r.store} | ${w.votesPerSecondWithoutBefore} / ${w.votesPerSecondWithoutAfter} | ${w.streams} | ${w.votesPerSecond} | ${w.ratio} | ${w.p99ms} | ${w.cpuMsPerVote.vote} | ${w.tallyLagAfterLastAckMs} ms |`);
  }
}
console.log(`\nwritten to ${file}`);
process.exit(0);
