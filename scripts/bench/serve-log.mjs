// vote-server's CPU per ballot log entry served by StreamBallots: starts vote-server alone on a
// copy of a log kept by `RECOUNT_DATA=<dir> npm run bench:recount` (vote-server may write to
// it: migrations, checkpoints) and streams the whole log (follow off, anonymous, as `voting audit` reads it)
// with a bare grpc-js client that does not decode, several times per start. Several source
// trees (each built) run in turn, round after round, to compare them on a busy machine.
// Usage: node scripts/bench/serve-log.mjs <data dir> <rounds> <streams per start> <root>...
// PROF=<dir> writes vote-server's .cpuprofile there; SERVE_DATABASE_URL=mysql://... serves a copy of the log from there.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
const [dir, roundsS, streamsS, ...roots] = process.argv.slice(2);
const rounds = Number(roundsS), streams = Number(streamsS);
const election = JSON.parse(readFileSync(join(dir, "election.json"), "utf8"));
const cpu = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) / 100; };
const results = Object.fromEntries(roots.map((r) => [r, { first: [], warm: [], mysqld: [] }]));
// The database server's CPU counts too when the log is served from MySQL/MariaDB.
const mysqld = process.env.SERVE_DATABASE_URL?.startsWith("mysql:") ? spawnSync("pgrep", ["-o", "-x", "mariadbd|mysqld"], { encoding: "utf8" }).stdout.trim() : "";
for (let round = 0; round < rounds; round++) {
  for (const root of roots) {
    const require = createRequire(join(root, "api/package.json"));
    const grpc = require("@grpc/grpc-js");
    const { voteV1 } = await import(join(root, "api/dist/index.js"));
    const port = 25000 + Math.floor(Math.random() * 2000);
    const env = { ...process.env, DATABASE_URL: process.env.SERVE_DATABASE_URL ?? `sqlite:${join(dir, "voting.sqlite")}`, HOST: "127.0.0.1", LOG_LEVEL: "warn",
      SERVICE_PUBLIC_KEYS_FILE: join(dir, "keys/service-keys.jwks.json"), VOTE_SERVICE_KEY_FILE: join(dir, "keys/svc-vote.pem"),
      KEY_ENCRYPTION_KEY: readFileSync(join(dir, "kek"), "utf8"), VOTE_LOG_KEY_FILE: join(dir, "log-key.pem"),
      VOTE_PORT: String(port), AUTH_ADDR: `127.0.0.1:${port + 1}`, STREAM_MAX_PER_CALLER: "100" };
    const child = spawn(process.execPath, [...(process.env.PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.PROF] : []), join(root, "vote-server/dist/main.js")], { env, stdio: "inherit" });
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc-node.flow_control_window": 8 * 1024 * 1024, "grpc.max_receive_message_length": 64 << 20 });
    await new Promise((res, rej) => client.waitForReady(Date.now() + 30000, (e) => (e ? rej(e) : res())));
    const { path, requestSerialize } = voteV1.VoteServiceService.streamBallots;
    await new Promise((r) => setTimeout(r, 300));
    for (let s = 0; s < streams; s++) {
      const c0 = cpu(child.pid), m0 = mysqld ? cpu(mysqld) : 0, t0 = performance.now();
      let bytes = 0, msgs = 0;
      await new Promise((res, rej) => {
        const call = client.makeServerStreamRequest(path, requestSerialize, (b) => b, { electionId: election.id, afterSeq: 0, follow: false });
        call.on("data", (b) => { bytes += b.length; msgs++; });
        call.on("end", res); call.on("error", rej);
      });
      const us = ((cpu(child.pid) - c0) * 1e6) / election.ballots;
      (s === 0 ? results[root].first : results[root].warm).push(us);
      const dbUs = mysqld ? ((cpu(mysqld) - m0) * 1e6) / election.ballots : NaN;
      if (mysqld) results[root].mysqld.push(dbUs);
      console.log(`${root} round ${round} stream ${s}: ${msgs} msgs ${bytes} bytes, ${((performance.now() - t0) / 1000).toFixed(2)} s, vote-server ${us.toFixed(2)} µs/entry${mysqld ? `, mysqld ${dbUs.toFixed(2)}` : ""}`);
    }
    client.close();
    child.kill("SIGTERM");
    await new Promise((r) => child.on("exit", r));
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[s.length >> 1] : NaN; };
for (const r of roots) console.log(`${r}: first stream median ${med(results[r].first).toFixed(2)} µs/entry (${results[r].first.map((x) => x.toFixed(2)).join(", ")}); warm median ${med(results[r].warm).toFixed(2)} (${results[r].warm.map((x) => x.toFixed(2)).join(", ")})` + (mysqld ? `; mysqld median ${med(results[r].mysqld).toFixed(2)}` : ""));
console.log("load", readFileSync("/proc/loadavg", "utf8").trim());
