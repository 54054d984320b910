#!/usr/bin/env node
// `npm run bench:tlog`: the transparency log at scale. Appends TLOG_BALLOTS ballots (default
// 1,000,000) to a format 2 election on a fresh SQLite file through vote-server's own ballot box
// (group commit; tree nodes and one signed checkpoint per commit, in the same transaction), then
// times GetInclusionProof and GetConsistencyProof as vote-server computes them (store read and
// proof, in-process, no network) for random leaves, checks every proof with the tlog library,
// and prints proof sizes in bytes (hashes, and the encoded gRPC response).
import { spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
if (spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);

const N = Number(process.env.TLOG_BALLOTS ?? 1_000_000);
const SAMPLES = Number(process.env.TLOG_SAMPLES ?? 2000);
const { openDatabase, migrate } = await import("@voting/server-kit");
const { logV1 } = await import("@voting/api");
const core = await import("@voting/election-core");
const { voteMigrations } = await import("../vote-server/dist/db/migrations.js");
const { ballotRepository } = await import("../vote-server/dist/db/ballot-repository.js");
const { electionRepository } = await import("../vote-server/dist/db/election-repository.js");
const { logRepository } = await import("../vote-server/dist/db/log-repository.js");
const { ballotBox } = await import("../vote-server/dist/domain/ballot-box.js");
const { electionAdmin } = await import("../vote-server/dist/domain/election-admin.js");
const { logSigner, transparencyLog, leafData } = await import("../vote-server/dist/domain/transparency-log.js");

const dir = mkdtempSync(join(tmpdir(), "voting-tlog-"));
const db = openDatabase(`sqlite:${join(dir, "voting.sqlite")}`);
await migrate(db, "vote_migrations", voteMigrations(db.dialect));
const elections = electionRepository(db);
const admin = electionAdmin(elections);
const created = await admin.create({ title: "Transparency log at scale", description: "", method: "plurality", seats: 1, candidates: ["A", "B", "C"], resultsWhileOpen: false, voterRoll: [] });
await admin.open(created.id);
const id = created.id;
const { seed, publicKey } = core.generateEd25519Seed();
const signer = logSigner("bench.example", () => ({ seed, publicKey }));
const repo = ballotRepository(db);
const box = ballotBox(repo, { batchMax: 2000, lingerMs: 0, onAppended() {}, signer });

let start = performance.now();
for (let i = 0; i < N; i += 20_000) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 20_000); j++) batch.push(box.cast({ electionId: id, voterId: j + 1, choices: [1 + (j % 3)], idempotencyKey: randomBytes(16) }));
  await Promise.all(batch);
  if ((i / 20_000) % 10 === 0) process.stdout.write(`  appended ${i + batch.length}\r`);
}
const appendS = (performance.now() - start) / 1000;
console.log(`appended ${N} ballots with tree nodes and checkpoints: ${appendS.toFixed(1)} s (${Math.round(N / appendS)} ballots/s)`);
const count = async (t) => Number((await db.kysely.selectFrom(t).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
console.log(`tlog_nodes rows: ${await count("tlog_nodes")}, checkpoints: ${await count("checkpoints")}`);

// vote-server reads the election through its one-second cache; so does the bench.
const election = await elections.get(id);
const tlog = transparencyLog({ repo: logRepository(db), signer, election: async () => election });
const top = await tlog.checkpoint(id);
const vkey = core.parseVerifierKey(top.verifierKey);
core.openCheckpoint(top.note, { log: core.ed25519Verifier(vkey.name, vkey.publicKey), origin: signer.origin(id) });
const topRoot = top.checkpoint.rootHash;

// Inclusion: random leaves against the latest checkpoint, as GetInclusionProof computes them.
const indices = Array.from({ length: SAMPLES }, () => randomInt(N));
const rows = new Map();
for (const i of indices) rows.set(i, (await repo.readLog(id, i, 1))[0]);
let cpu = process.cpuUsage();
start = performance.now();
const proofs = [];
for (const i of indices) proofs.push(await tlog.inclusion(id, 0, i));
const wall = (performance.now() - start) / SAMPLES;
cpu = process.cpuUsage(cpu);
let responseBytes = 0;
indices.forEach((i, k) => {
  const data = leafData(rows.get(i));
  if (!core.verifyInclusion(i, N, core.leafHash(data), proofs[k].path, topRoot)) throw new Error(`inclusion proof of ${i} does not verify`);
  responseBytes = Math.max(responseBytes, logV1.GetInclusionProofResponse.encode({ leafIndex: i, treeSize: N, entry: undefined, leafData: data, inclusionPath: proofs[k].path }).finish().length);
});
const maxHashes = Math.max(...proofs.map((p) => p.path.length));
console.log(
  `GetInclusionProof at ${N}: ${maxHashes} hashes = ${maxHashes * 32} bytes of proof; response without the entry <= ${responseBytes} bytes; ` +
    `${wall.toFixed(3)} ms wall, ${((cpu.user + cpu.system) / 1000 / SAMPLES).toFixed(3)} ms CPU per proof (store read + proof, ${SAMPLES} random leaves)`,
);

// Consistency: random older sizes to the latest.
const sizes = Array.from({ length: SAMPLES }, () => 1 + randomInt(N - 1));
cpu = process.cpuUsage();
start = performance.now();
const cproofs = [];
for (const m of sizes) cproofs.push(await tlog.consistency(id, m, 0));
const cwall = (performance.now() - start) / SAMPLES;
cpu = process.cpuUsage(cpu);
const maxC = Math.max(...cproofs.map((p) => p.path.length));
// Check a few against roots recomputed from the stored nodes.
for (const k of [0, 1, 2]) {
  const rootM = core.foldRange(await logRepository(db).readNodes(id, core.frontierNodes(sizes[k])));
  if (!core.verifyConsistency(sizes[k], N, cproofs[k].path, rootM, topRoot)) throw new Error(`consistency proof from ${sizes[k]} does not verify`);
}
console.log(`GetConsistencyProof to ${N}: <= ${maxC} hashes = ${maxC * 32} bytes; ${cwall.toFixed(3)} ms wall, ${((cpu.user + cpu.system) / 1000 / SAMPLES).toFixed(3)} ms CPU per proof`);
if (process.env.TLOG_BREAKDOWN) {
  const lr = logRepository(db);
  let t0 = performance.now();
  for (let k = 0; k < SAMPLES; k++) await lr.latestCheckpoint(id);
  console.log(`  latestCheckpoint: ${((performance.now() - t0) / SAMPLES).toFixed(3)} ms`);
  t0 = performance.now();
  for (const i of indices) await lr.readNodes(id, core.inclusionPlan(i, N).nodes);
  console.log(`  readNodes (inclusion plan): ${((performance.now() - t0) / SAMPLES).toFixed(3)} ms`);
  const plans = indices.map((i) => core.inclusionPlan(i, N));
  t0 = performance.now();
  for (let k = 0; k < SAMPLES; k++) core.inclusionPlan(indices[k], N);
  console.log(`  plan: ${((performance.now() - t0) / SAMPLES).toFixed(3)} ms, nodes per plan ${Math.max(...plans.map((p) => p.nodes.length))}`);
}
console.log(`checkpoint note: ${Buffer.byteLength(top.note)} bytes`);
await db.close();
rmSync(dir, { recursive: true, force: true });
