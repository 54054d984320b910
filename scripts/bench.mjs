#!/usr/bin/env node
// `npm run bench`: durable votes per second against the real servers (built, one child process
// each, as `npm start` runs them) on SQLite and, when it answers, the local MariaDB, measured
// beside the limits in the same run: a raw grpc-js echo server driven by the same load
// generators, and raw durable single-row inserts into the same store. Also the CPU of every
// server process (mariadbd included) per vote, the tally lag while voting, GetResults under
// load, a login storm and follow streams. Options and figures: BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { root } from "./bench/lib.mjs";

const require = createRequire(import.meta.url);
const build = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(1);

const { authV1 } = await import("@voting/client");
const { freshStore, startServers } = await import("./bench/servers.mjs");
const { newElection, voteRound, echoRound, rawInsertRound, getResultsLoad, getResultsAlone, h2loadRounds, loginLoad } = await import("./bench/rounds.mjs");
const { streamsRounds } = await import("./bench/streams.mjs");
const { figures, printSummary } = await import("./bench/report.mjs");
const { round } = await import("./bench/lib.mjs");

const env = process.env;
const num = (name, dflt) => Number(env[name] ?? dflt);
const VOTERS = num("BENCH_VOTERS", 20000);
const ELECTIONS = num("BENCH_ELECTIONS", 1);
const SIDE = num("BENCH_SIDE_VOTERS", Math.min(VOTERS, Math.max(2000, Math.ceil(VOTERS / 4))));
const WARMUP = Math.min(VOTERS, 2000);
const STREAMS = num("BENCH_STREAMS", 5000);
const GETRESULTS = num("BENCH_GETRESULTS_CONCURRENCY", 64);
const H2LOAD = num("BENCH_H2LOAD_CALLS", 50000);
const STORM = num("BENCH_STORM_CONCURRENCY", 16);
const RAW = num("BENCH_RAW_INSERTS", Math.min(VOTERS, 5000));
const STORES = (env.BENCH_STORES ?? "sqlite,mysql").split(",");
const MYSQL = env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const MYSQL_DATABASE = env.BENCH_MYSQL_DATABASE;
const opts = { concurrency: num("BENCH_CONCURRENCY", 64), procs: num("BENCH_LOADGEN_PROCS", 2), echoCalls: 100_000 };
const OWASP = { ARGON2_MEMORY_KIB: "19456", ARGON2_TIME_COST: "2", ARGON2_PARALLELISM: "1" };

const say = (s) => process.stdout.write(`${s}\n`);
const brief = (r) => `${round(r.votes.perSecond, 0)} votes/s, p50 ${round(r.votes.p50, 1)} ms, p99 ${round(r.votes.p99, 1)} ms, tally lag p99 ${round(r.lag.p99, 0)} ms, vote-server CPU ms/vote main/writer/all ${[r.cpu.voteMain, r.cpu.voteWriter, r.cpu.vote].map((s) => round((s * 1000) / r.votes.ok, 3)).join("/")}${r.votes.ok < r.votes.calls ? `, ${r.votes.calls - r.votes.ok} failed ${JSON.stringify(r.votes.codes)}` : ""}`;

/** Registers and logs in `n` voters (cheap argon2 parameters); their access tokens. */
async function registerVoters(sys, n, tag) {
  const tokens = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const i = next++;
        const username = `bench-v${i}-${tag}`;
        await sys.client.auth.register({ username, password: "bench-password", role: authV1.Role.ROLE_VOTER });
        tokens[i] = (await sys.client.auth.login({ username, password: "bench-password" })).tokens.accessToken;
      }
    }),
  );
  return tokens;
}

// Interrupted: stop the servers and drop the store (the other children see their stdin close).
let running = {};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => Promise.allSettled([running.sys?.stop()]).then(() => running.db?.cleanup()).finally(() => process.exit(1)));

async function benchStore(store) {
  const db = await freshStore(store, MYSQL, MYSQL_DATABASE);
  if (!db) return undefined;
  running = { db };
  const sys = (running.sys = await startServers(db.databaseUrl, 20000 + Math.floor(Math.random() * 400) * 10 /* below the ephemeral range */, { STREAM_MAX_PER_CALLER: String(STREAMS + 100) }));
  const o = { ...opts, mariadbPid: db.serverPid };
  const r = { store, procs: opts.procs };
  try {
    const t0 = Date.now();
    const tokens = await registerVoters(sys, Math.max(VOTERS, SIDE + 1), randomBytes(3).toString("hex"));
    say(`${store}: ${tokens.length} voters registered and logged in in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await voteRound(sys, tokens.slice(0, WARMUP), [await newElection(sys, "warm-up")], o);

    const elections = [];
    for (let i = 0; i < ELECTIONS; i++) elections.push(await newElection(sys, `main ${i + 1}`));
    r.main = await voteRound(sys, tokens.slice(0, VOTERS), elections, o);
    say(`  CastVote: ${brief(r.main)}`);
    r.echo = await echoRound(r.main.reqs, r.main.votes.responseBytes, o);
    delete r.main.reqs;
    say(`  echo: ${round(r.echo.perSecond, 0)} calls/s, p99 ${round(r.echo.p99, 1)} ms`);
    if (RAW > 0) {
      r.raw = await rawInsertRound(db.rawUrl, RAW, 256, o);
      say(`  raw inserts: ${round(r.raw.perSecond, 0)}/s, p99 ${round(r.raw.p99, 1)} ms`);
    }
    const side = tokens.slice(0, SIDE);
    if (GETRESULTS > 0) {
      const e = await newElection(sys, "GetResults under load");
      r.getResults = await voteRound(sys, side, [e], o, [await getResultsLoad(sys, e.id, GETRESULTS)]);
      r.getResultsAlone = await getResultsAlone(sys, e.id, GETRESULTS, 3);
      say(`  GetResults: ${round(r.getResults.extras[0].perSecond, 0)}/s beside ${brief(r.getResults)}; alone ${round(r.getResultsAlone.perSecond, 0)}/s`);
      if (H2LOAD > 0) {
        r.h2load = (await h2loadRounds(sys, e.id, H2LOAD, GETRESULTS)) ?? { missing: true };
        const h = r.h2load;
        say(h.missing ? "  GetResults via h2load: skipped, h2load is not installed (apt-get install nghttp2-client)" : `  GetResults via h2load: ${round(h.getResults.perSecond, 0)}/s; echo via h2load: ${round(h.echo.perSecond, 0)}/s`);
      }
    }
    if (STORM > 0) {
      await sys.restartAuth(OWASP);
      const users = [];
      for (let i = 0; i < 16; i++) {
        const u = { username: `bench-storm${i}-${randomBytes(3).toString("hex")}`, password: "bench-storm-password" };
        await sys.client.auth.register({ ...u, role: authV1.Role.ROLE_VOTER });
        users.push(u);
      }
      const without = await voteRound(sys, side, [await newElection(sys, "before the login storm")], o);
      const withIt = await voteRound(sys, side, [await newElection(sys, "login storm")], o, [await loginLoad(sys, users, STORM)]);
      r.storm = { without, with: withIt };
      say(`  without login storm: ${brief(without)}\n  with login storm (${STORM} in flight, ${round(withIt.extras[0].perSecond, 1)} logins/s): ${brief(withIt)}`);
    }
    if (STREAMS > 0) {
      r.streams = await streamsRounds(sys, side, tokens[SIDE], STREAMS, o);
      say(`  follow streams: ${round(r.streams.before.votes.perSecond, 0)} / ${round(r.streams.with.votes.perSecond, 0)} / ${round(r.streams.after.votes.perSecond, 0)} votes/s before / with / after`);
    }
    r.figures = figures(r);
    return r;
  } finally {
    await sys.stop();
    await db.cleanup();
    running = {};
  }
}

const describe = `${cpus().length} cores, node ${process.version}; ${VOTERS} voters × ${ELECTIONS} election(s) in the main round, ${SIDE} per side round, ${opts.concurrency} in flight from ${opts.procs} load generator process(es); raw inserts ${RAW}; GetResults ${GETRESULTS} in flight (${H2LOAD} calls via h2load); login storm ${STORM} in flight; ${STREAMS} follow streams${process.env.BENCH_SERVER_NODE_FLAGS ? `; server node flags ${process.env.BENCH_SERVER_NODE_FLAGS}` : ""}`;
say(describe);
mkdirSync(join(root, "bench-results"), { recursive: true });
const file = join(root, "bench-results", `bench-${Date.now()}.json`);
const results = [];
for (const store of STORES) {
  const r = await benchStore(store);
  if (!r) continue;
  results.push(r);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), describe, results: results.map((x) => ({ store: x.store, figures: x.figures })) }, null, 2)}\n`);
}
printSummary(results, { describe });
say(`\nwritten to ${file}`);
process.exit(0);
