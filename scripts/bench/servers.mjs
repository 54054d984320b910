// The system under test for `npm run bench`: the three servers, built, one child process each
// (as `npm start` runs them), on a fresh SQLite file or a fresh MariaDB database.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mariadbPid, root, sleep } from "./lib.mjs";

const { createVotingClient } = await import("@voting/client");
const { ensureServiceKeyFiles } = await import("@voting/server-kit");
const mysql = (await import("mysql2/promise")).default;

/**
 * A fresh store: { databaseUrl, rawUrl (a sibling file or database for raw inserts), serverPid (MariaDB's), cleanup }, or undefined when MariaDB does not answer.
 * `keep` names an existing MariaDB database to use instead (e.g. one grown by `npm run bench:fill`): it is neither made nor dropped.
 */
export async function freshStore(store, mysqlUrl, keep) {
  if (store === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "voting-bench-"));
    return { databaseUrl: `sqlite:${join(dir, "voting.sqlite")}`, rawUrl: `sqlite:${join(dir, "raw.sqlite")}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = keep || `voting_bench_${randomBytes(4).toString("hex")}`;
  const raw = `voting_bench_${randomBytes(4).toString("hex")}_raw`;
  let pidFile;
  const admin = async (f) => {
    const c = await mysql.createConnection({ uri: mysqlUrl });
    try {
      for (const db of keep ? [raw] : [name, raw]) await c.query(`${f} DATABASE ${db}`);
      pidFile ??= (await c.query("SELECT @@pid_file AS f"))[0][0].f;
    } finally {
      await c.end();
    }
  };
  try {
    await admin("CREATE");
  } catch (err) {
    console.log(`mysql: skipped (${err.message})`);
    return undefined;
  }
  // The database server's pid, read afresh for each round (it may have been restarted).
  const serverPid = () => {
    try {
      return Number(readFileSync(pidFile, "utf8").trim());
    } catch {
      return mariadbPid();
    }
  };
  return { databaseUrl: `${mysqlUrl}/${name}`, rawUrl: `${mysqlUrl}/${raw}`, serverPid, cleanup: () => admin("DROP") };
}

/** Starts auth-, vote- and tally-server; `restartAuth(env)` starts auth-server again with more settings. */
export async function startServers(databaseUrl, basePort, extraEnv = {}) {
  const keys = ensureServiceKeyFiles(join(mkdtempSync(join(tmpdir(), "voting-bench-keys-")), "keys"));
  const admin = { username: "bench-admin", password: randomBytes(12).toString("hex") };
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
    SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile,
    VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"],
    TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
    KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    VOTING_ADMIN_USERNAME: admin.username,
    VOTING_ADMIN_PASSWORD: admin.password,
    // Setup registers thousands of users; OWASP-strength hashing is the login storm's (restartAuth).
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    // Tokens made at setup must outlive a long run.
    ACCESS_TOKEN_TTL_SECONDS: "86400",
    AUTH_PORT: String(basePort),
    VOTE_PORT: String(basePort + 1),
    TALLY_PORT: String(basePort + 2),
    AUTH_METRICS_PORT: String(basePort + 3),
    VOTE_METRICS_PORT: String(basePort + 4),
    TALLY_METRICS_PORT: String(basePort + 5),
    AUTH_ADDR: `127.0.0.1:${basePort}`,
    VOTE_ADDR: `127.0.0.1:${basePort + 1}`,
    LOGIN_MAX_ATTEMPTS_PER_PEER: "1000000",
    REGISTER_MAX_PER_PEER: "1000000",
    ...extraEnv,
  };
  const addrs = { auth: env.AUTH_ADDR, vote: env.VOTE_ADDR, tally: `127.0.0.1:${basePort + 2}` };
  const client = createVotingClient({ authAddr: addrs.auth, voteAddr: addrs.vote, tallyAddr: addrs.tally });
  // Node flags for the three servers: profiling, and any given for A/B runs (e.g. "--max-semi-space-size=64").
  const nodeFlags = [...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : []), ...(process.env.BENCH_SERVER_NODE_FLAGS ?? "").split(" ").filter(Boolean)];
  const procs = {};
  const start = (name, more = {}) => (procs[name] = spawn(process.execPath, [...nodeFlags, `${name}/dist/main.js`], { cwd: root, env: { ...env, ...more }, stdio: "inherit" }));
  const until = async (what, f) => {
    for (let i = 0; i < 150; i++) {
      try {
        return await f();
      } catch {
        await sleep(200);
      }
    }
    throw new Error(`${what} did not answer`);
  };
  const stop = (p) => new Promise((r) => (p.exitCode !== null ? r() : (p.on("exit", r), p.kill("SIGTERM"))));
  for (const name of ["auth-server", "vote-server", "tally-server"]) {
    start(name);
    await sleep(300);
  }
  await until("tally-server", () => client.tally.getResults({}, { deadlineMs: 1000 }));
  const adminToken = await until("auth-server", async () => (await client.auth.login(admin)).tokens.accessToken);
  return {
    client,
    addrs,
    adminToken,
    metricsPorts: { auth: basePort + 3, vote: basePort + 4, tally: basePort + 5 },
    pids: () => ({ auth: procs["auth-server"].pid, vote: procs["vote-server"].pid, tally: procs["tally-server"].pid }),
    async restartAuth(more) {
      await stop(procs["auth-server"]);
      start("auth-server", more);
      await until("auth-server", () => client.auth.login(admin));
    },
    async stop() {
      client.close();
      await Promise.all(Object.values(procs).map(stop));
    },
  };
}
