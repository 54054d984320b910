#!/usr/bin/env node
// `npm run bench:web`: the web front end's results page and live updates, on loopback.
// Starts the three servers (SQLite in a temp dir) and the web server in this process, makes an
// open IRV election with WEB_BENCH_BALLOTS ballots (default 300) and measures:
//  - the results page: server time to the whole HTML (median/p95 of 50 GETs), and in Chromium
//    (playwright-core, /usr/bin/chromium) first contentful paint, DOMContentLoaded and load of 10 fresh loads;
//  - SSE update latency: from a CastVote acknowledged to the event carrying the new count
//    arriving at an open /results/events stream (median/p95 of WEB_BENCH_UPDATES, default 30).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
if (spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);

const BALLOTS = Number(process.env.WEB_BENCH_BALLOTS ?? 300);
const UPDATES = Number(process.env.WEB_BENCH_UPDATES ?? 30);
const { ensureServiceKeyFiles, createLogger } = await import("@voting/server-kit");
const { startAuthServer, readAuthConfig } = await import("@voting/auth-server");
const { startVoteServer, readVoteConfig } = await import("@voting/vote-server");
const { startTallyServer, readTallyConfig } = await import("@voting/tally-server");
const { createVotingClient, authV1, voteV1 } = await import("@voting/client");
const { startWebServer, readWebConfig } = await import("@voting/web");

const dir = mkdtempSync(join(tmpdir(), "voting-web-bench-"));
const keys = ensureServiceKeyFiles(join(dir, "keys"));
const env = {
  DATABASE_URL: `sqlite:${join(dir, "voting.sqlite")}`, HOST: "127.0.0.1", LOG_LEVEL: "silent",
  SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile, VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"], TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"), ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1",
  LOGIN_MAX_ATTEMPTS_PER_PEER: "1000000", REGISTER_MAX_PER_PEER: "1000000",
  VOTING_ADMIN_USERNAME: "admin", VOTING_ADMIN_PASSWORD: "admin-password", AUTH_PORT: "0", VOTE_PORT: "0", TALLY_PORT: "0",
};
const log = createLogger("bench", "silent");
const auth = await startAuthServer(readAuthConfig(env), log);
env.AUTH_ADDR = `127.0.0.1:${auth.port}`;
const vote = await startVoteServer(readVoteConfig(env), log);
env.VOTE_ADDR = `127.0.0.1:${vote.port}`;
const tally = await startTallyServer(readTallyConfig(env), log);
env.TALLY_ADDR = `127.0.0.1:${tally.port}`;
const web = await startWebServer(readWebConfig({ ...env, WEB_PORT: "0" }));
const client = createVotingClient({ authAddr: env.AUTH_ADDR, voteAddr: env.VOTE_ADDR, tallyAddr: env.TALLY_ADDR, waitForReady: true });

const adminToken = (await client.auth.login({ username: "admin", password: "admin-password" })).tokens.accessToken;
const { election } = await client.elections.createElection(
  { title: "Web bench", method: voteV1.BallotMethod.BALLOT_METHOD_IRV, seats: 1, candidates: ["A", "B", "C", "D", "E"], resultsWhileOpen: true },
  { token: adminToken },
);
await client.elections.openElection({ electionId: election.id }, { token: adminToken });
const ids = election.candidates.map((c) => c.id);
const voter = async () => {
  const username = `v${randomBytes(6).toString("hex")}`;
  await client.auth.register({ username, password: "bench-pass-1", role: authV1.Role.ROLE_VOTER });
  return (await client.auth.login({ username, password: "bench-pass-1" })).tokens.accessToken;
};
const castOne = async (token) => {
  const order = [...ids].sort(() => Math.random() - 0.5).slice(0, 3);
  await client.votes.castVote({ electionId: election.id, ballot: { choices: order } }, { token });
};
for (let i = 0; i < BALLOTS; i += 20) await Promise.all(Array.from({ length: Math.min(20, BALLOTS - i) }, async () => castOne(await voter())));

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: +q(0.5).toFixed(1), p95: +q(0.95).toFixed(1), n: s.length };
};
const page = `${web.url}elections/${election.id}/results`;

// Server: whole HTML of the results page.
const serverMs = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  const r = await fetch(page);
  await r.text();
  serverMs.push(performance.now() - t);
}

// Browser: first contentful paint of a fresh load.
let fcp;
try {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox"] });
  const paints = [];
  const loads = [];
  for (let i = 0; i < 10; i++) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(page, { waitUntil: "load" });
    // First contentful paint where headless Chromium reports it; the navigation's DOMContentLoaded and load always.
    const t = await p.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const fcp = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint");
      return { fcp: fcp?.startTime, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
    });
    if (t.fcp !== undefined) paints.push(t.fcp);
    loads.push(t);
    await ctx.close();
  }
  await browser.close();
  fcp = { firstContentfulPaint: paints.length ? stats(paints) : "not reported by headless Chromium", domContentLoaded: stats(loads.map((l) => l.dcl)), load: stats(loads.map((l) => l.load)) };
} catch (err) {
  fcp = `not measured: ${err.message}`;
}

// SSE: CastVote acknowledged -> event with the new total read from the stream.
const sseMs = [];
const ac = new AbortController();
const res = await fetch(`${page}/events`, { signal: ac.signal });
const reader = res.body.getReader();
const decoder = new TextDecoder();
let buffer = "";
const nextTotal = async (want) => {
  for (;;) {
    const m = [...buffer.matchAll(/data-total>(\d+)</g)].map((x) => Number(x[1]));
    if (m.includes(want)) {
      buffer = "";
      return;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error("stream ended");
    buffer += decoder.decode(value, { stream: true });
  }
};
await nextTotal(BALLOTS);
const tokens = [];
for (let i = 0; i < UPDATES; i++) tokens.push(await voter());
for (let i = 0; i < UPDATES; i++) {
  await castOne(tokens[i]);
  const acked = performance.now();
  await nextTotal(BALLOTS + i + 1);
  sseMs.push(performance.now() - acked);
}
ac.abort();

const out = { date: new Date().toISOString(), ballots: BALLOTS, resultsPageServerMs: stats(serverMs), resultsPageBytes: (await (await fetch(page)).text()).length, chromiumMs: fcp, sseUpdateLatencyMs: stats(sseMs) };
console.log(JSON.stringify(out, null, 2));
client.close();
await web.stop();
await tally.stop();
await vote.stop();
await auth.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
