#!/usr/bin/env node
// `npm run bench:verify`: what `voting verify` costs on a big log. Writes VERIFY_BALLOTS
// (default 1,000,000) format 2 entries and their Merkle tree nodes straight into a SQLite
// store (half, then the rest while vote-server runs, as a log that grows), starts the servers
// and runs the built CLI: `voting verify` of an entry after the first half (nothing kept
// before), again after the log has doubled (a consistency proof from the kept checkpoint),
// and `voting verify --full` (the whole log) for comparison. Prints bytes and time of each.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
if (spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);

const N = Number(process.env.VERIFY_BALLOTS ?? 1_000_000);
const FULL = process.env.VERIFY_FULL !== "0";
const { ensureServiceKeyFiles, openDatabase, migrate } = await import("@voting/server-kit");
const { createVotingClient } = await import("@voting/client");
const { CompactRange, entryBytes, leafHash, ballotCommitment } = await import("@voting/election-core");
const { voteMigrations } = await import("../vote-server/dist/db/migrations.js");
const { electionRepository } = await import("../vote-server/dist/db/election-repository.js");
const { electionAdmin } = await import("../vote-server/dist/domain/election-admin.js");
const { newTrackingCode } = await import("../vote-server/dist/domain/receipts.js");
const Database = require(require.resolve("better-sqlite3", { paths: [join(root, "server-kit")] }));

const dir = mkdtempSync(join(tmpdir(), "voting-verify-bench-"));
const file = join(dir, "voting.sqlite");
const url = `sqlite:${file}`;
const seconds = (since) => ((performance.now() - since) / 1000).toFixed(1);

const db = openDatabase(url);
await migrate(db, "vote_migrations", voteMigrations(db.dialect));
const admin = electionAdmin(electionRepository(db));
const created = await admin.create({ title: "Verify at scale", description: "", method: "plurality", seats: 1, candidates: ["A", "B", "C"], resultsWhileOpen: true, voterRoll: [] });
await admin.open(created.id);
const id = created.id;
await db.close();

// The entries as the ballot box writes them (docs/ballot-log.md, format 2) and the tree's nodes.
const sqlite = new Database(file);
sqlite.pragma("journal_mode = WAL");
const { head_hash: genesis } = sqlite.prepare("select head_hash from elections where id = ?").get(id);
let head = genesis;
const range = new CompactRange();
const insertBallot = sqlite.prepare("insert into ballots (election_id, seq, tracking_code, choices, hash, commitment, salt) values (?, ?, ?, ?, ?, ?, ?)");
const insertNode = sqlite.prepare("insert into tlog_nodes (election_id, level, idx, hash) values (?, ?, ?, ?)");
const setHead = sqlite.prepare("update elections set head_seq = ?, head_hash = ? where id = ?");
const codes = [];
// In transactions of 50,000, so the servers sharing the file are not locked out for long.
function append(from, to) {
  for (let at = from; at <= to; at += 50_000) appendChunk(at, Math.min(to, at + 49_999));
}
function appendChunk(from, to) {
  sqlite.transaction(() => {
    for (let seq = from; seq <= to; seq++) {
      const trackingCode = newTrackingCode();
      const choices = [1 + (seq % 3)];
      const salt = randomBytes(32).toString("hex");
      const commitment = ballotCommitment(salt, choices);
      const bytes = entryBytes(2, { electionId: id, seq, trackingCode, commitment, choices, salt });
      head = createHash("sha256").update(Buffer.from(head, "hex")).update(bytes).digest("hex");
      insertBallot.run(id, seq, trackingCode, choices.join(","), head, commitment, salt);
      for (const n of range.append(leafHash(bytes))) insertNode.run(id, n.level, n.index, n.hash);
      codes[seq] = trackingCode;
    }
    setHead.run(to, head, id);
  })();
}

let start = performance.now();
const HALF = Math.floor(N / 2);
append(1, HALF);
console.log(`wrote ${HALF} entries and their tree nodes: ${seconds(start)} s`);

// Below the ephemeral range (32768-60999), where an outgoing connection can hold the port.
const port = 26000 + Math.floor(Math.random() * 300) * 3;
const keys = ensureServiceKeyFiles(join(dir, "keys"));
const env = {
  ...process.env, DATABASE_URL: url, HOST: "127.0.0.1", LOG_LEVEL: "warn",
  SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile, VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"], TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
  KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"), VOTE_RECONCILE_EVERY_MS: "3600000",
  ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", AUTH_PORT: String(port), VOTE_PORT: String(port + 1), TALLY_PORT: String(port + 2),
  AUTH_ADDR: `127.0.0.1:${port}`, VOTE_ADDR: `127.0.0.1:${port + 1}`, TALLY_ADDR: `127.0.0.1:${port + 2}`,
  VOTING_CONFIG_DIR: join(dir, "cli"),
};
const children = ["auth-server", "vote-server"].map((name) => spawn(process.execPath, [`${name}/dist/main.js`], { cwd: root, env, stdio: "inherit" }));
const client = createVotingClient({ voteAddr: env.VOTE_ADDR, waitForReady: true, deadlineMs: 120_000 });
const checkpointSize = async () => (await client.log.getCheckpoint({ electionId: id })).checkpoint?.treeSize ?? 0;
async function waitForCheckpoint(size) {
  for (;;) {
    try {
      if ((await checkpointSize()) >= size) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
}

function verify(code, ...extra) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, "client/bin/voting.js"), "verify", code, "--json", ...extra], { env, encoding: "utf8", maxBuffer: 1 << 26 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`voting verify failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout), wallMs: Math.round(wall) };
}

let exitCode = 0;
try {
  await waitForCheckpoint(HALF);
  const probe = codes[Math.max(1, Math.floor(HALF / 2))];
  const first = verify(probe);
  console.log(`verify at tree size ${first.treeSize} (nothing kept): ${first.bytesDownloaded} bytes in ${first.calls} answers, ${first.inclusionProofHashes} proof hashes, ${first.ms} ms in the command, ${first.wallMs} ms wall (incl. Node start-up)`);

  start = performance.now();
  append(HALF + 1, N);
  console.log(`wrote ${N - HALF} more entries: ${seconds(start)} s`);
  await waitForCheckpoint(N);
  const second = verify(probe);
  console.log(`verify at tree size ${second.treeSize} (1 kept checkpoint of size ${first.treeSize}): ${second.bytesDownloaded} bytes in ${second.calls} answers, ${second.inclusionProofHashes} proof hashes, ${second.ms} ms in the command, ${second.wallMs} ms wall`);
  const again = verify(codes[N - 1]);
  console.log(`verify of entry ${N - 1} at tree size ${again.treeSize} (kept: size ${second.treeSize}): ${again.bytesDownloaded} bytes, ${again.ms} ms in the command, ${again.wallMs} ms wall`);
  // Each RPC alone, from a warm client: what a verify costs without Node start-up.
  const median = async (f) => {
    const ms = [];
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[10].toFixed(2);
  };
  const leaf = Math.floor(HALF / 2) - 1;
  console.log(
    `warm client, median of 21 calls: GetReceipt ${await median(() => client.votes.getReceipt({ trackingCode: probe }))} ms, ` +
      `GetCheckpoint ${await median(() => client.log.getCheckpoint({ electionId: id }))} ms, ` +
      `GetInclusionProof ${await median(() => client.log.getInclusionProof({ electionId: id, treeSize: N, leafIndex: leaf }))} ms, ` +
      `GetConsistencyProof ${await median(() => client.log.getConsistencyProof({ electionId: id, firstSize: HALF, secondSize: N }))} ms`,
  );
  if (FULL) {
    const full = verify(probe, "--full");
    console.log(`verify --full at tree size ${full.treeSize} (proofs, then the whole log and its hash chain): ${full.bytesDownloaded} bytes counted for the proofs, ${full.wallMs} ms wall`);
  }
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  client.close();
  for (const c of children) c.kill("SIGTERM");
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
