// A/B of `voting audit --out` over a kept bench log (RECOUNT_DATA of bench:recount): node scripts/bench/audit-ab.mjs <data dir> <rounds> <serverTree> <tree>...
// Starts the servers of <serverTree> as bench:recount does, waits for the tally, then runs each tree's audit in turn
// per round (CPU of the CLI from process.cpuUsage at exit, wall, vote-server CPU meanwhile), then read+hash once per round.
// With <rounds> 0 it only serves: the three servers stay up (their addresses printed) until SIGTERM, for audits run by hand.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CPU_HOOK, cpuOf, cpuSeconds, readAndHash } from "./lib.mjs";
const [dir, roundsArg, serverTree, ...trees] = process.argv.slice(2);
const rounds = Number(roundsArg);
const { id } = JSON.parse(readFileSync(join(dir, "election.json"), "utf8"));
const { ensureServiceKeyFiles } = await import(join(serverTree, "server-kit/dist/index.js"));
const keys = ensureServiceKeyFiles(join(dir, "keys"));
const url = `sqlite:${join(dir, "voting.sqlite")}`;
const port = 25000 + Math.floor(Math.random() * 300) * 4;
const env = { ...process.env, DATABASE_URL: url, HOST: "127.0.0.1", LOG_LEVEL: "error", SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile, VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"], TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
  KEY_ENCRYPTION_KEY: readFileSync(join(dir, "kek"), "utf8"), VOTE_LOG_KEY_FILE: join(dir, "log-key.pem"), ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1",
  AUTH_PORT: String(port), VOTE_PORT: String(port + 1), TALLY_PORT: String(port + 2), AUTH_ADDR: `127.0.0.1:${port}`, VOTE_ADDR: `127.0.0.1:${port + 1}`, TALLY_METRICS_PORT: String(port + 3) };
const children = ["auth-server", "vote-server", "tally-server"].map((n) => spawn(process.execPath, [`${n}/dist/main.js`], { cwd: serverTree, env, stdio: "inherit" }));
const counted = async () => { try { const t = await (await fetch(`http://127.0.0.1:${port + 3}/metrics`)).text(); return Number(/^tally_ballots_counted_total (\d+)/m.exec(t)?.[1] ?? 0); } catch { return -1; } };
const N = JSON.parse(readFileSync(join(dir, "election.json"), "utf8")).ballots;
try {
  // The kept log was counted by an earlier run (tally keeps its progress): wait for the servers, then for the count to settle.
  while ((await counted()) < 0) await new Promise((r) => setTimeout(r, 500));
  for (let a = -1, b = await counted(); a !== b; ) { await new Promise((r) => setTimeout(r, 3000)); [a, b] = [b, await counted()]; }
  if (rounds === 0) {
    // Serve mode: keep the servers up for manual runs until this process is killed.
    console.log(`AUTH_ADDR=${env.AUTH_ADDR} VOTE_ADDR=${env.VOTE_ADDR} TALLY_ADDR=127.0.0.1:${port + 2} election ${id}`);
    await new Promise((r) => process.on("SIGTERM", r));
  }
  for (let r = 0; r < rounds; r++) {
    const outs = [];
    for (const tree of trees) {
      const out = join(dir, `ab-${trees.indexOf(tree)}.jsonl`);
      const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
      const v0 = cpuSeconds(children[1].pid);
      const t0 = performance.now();
      const run = spawnSync(process.execPath, [...CPU_HOOK, join(tree, "client/bin/voting.js"), "audit", "--election", String(id), "--out", out, "--json"], { env: { ...process.env, AUTH_ADDR: env.AUTH_ADDR, VOTE_ADDR: env.VOTE_ADDR, TALLY_ADDR: `127.0.0.1:${port + 2}`, VOTING_CONFIG_DIR: join(dir, `cli-ab-${trees.indexOf(tree)}`) }, encoding: "utf8", maxBuffer: 1 << 24 });
      const wall = (performance.now() - t0) / 1000;
      const c = cpuOf(run.stderr);
      console.log(`round ${r + 1} ${tree}: exit ${run.status}, wall ${wall.toFixed(2)} s, CLI CPU ${c.toFixed(2)} s, vote-server CPU ${(cpuSeconds(children[1].pid) - v0).toFixed(2)} s, load ${load}${run.status ? "\n" + run.stderr.slice(0, 500) : ""}`);
      outs.push(out);
    }
    const same = outs.every((o) => spawnSync("cmp", ["-s", outs[0], o]).status === 0);
    const base = readAndHash(outs[0]);
    console.log(`round ${r + 1} read+hash: wall ${base.wall.toFixed(2)} s, CPU ${base.cpu.toFixed(2)} s; --out files identical: ${same}`);
  }
} finally {
  for (const c of children) c.kill("SIGTERM");
}
