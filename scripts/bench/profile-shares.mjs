// Where a server's CPU went, from the .cpuprofile files `BENCH_PROFILE=<dir> npm run bench`
// writes: per thread, busy samples by category (the first category of CATEGORIES that any
// frame of the sample's stack matches) and the functions with the most self time.
// Usage: node scripts/bench/profile-shares.mjs <dir> [server, default vote-server] [--window fnName]
// With --window, only samples between the first and the last one with fnName on the stack count.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, server = "vote-server", ...rest] = process.argv.slice(2);
const windowFn = rest[0] === "--window" ? rest[1] : undefined;
if (!dir) throw new Error("usage: profile-shares.mjs <dir> [server] [--window fn]");

const file = (f) => f.url ?? "";
const CATEGORIES = [
  ["garbage collector", (f) => f.functionName === "(garbage collector)"],
  ["token verification (jose, libsodium)", (f) => /\/(jose|sodium-native|require-addon)\/|jwt-eddsa/.test(file(f)) || /verifyAccessToken|verifyWithKey/.test(f.functionName) || /internal\/crypto\/(webcrypto|cfrg|keys|util|webidl)/.test(file(f))],
  ["ballot work (codes, salts, hashes, tree, receipt seal)", (f) => /\/(receipts|ballot-log|transparency-log|merkle|tree|proofs|checkpoint|note)\.js$/.test(file(f)) || (f.functionName === "plan" && /ballot-box/.test(file(f))) || /ballot-writer|ballot-worker/.test(file(f))],
  ["SQL (Kysely, drivers, transactions)", (f) => /\/(kysely|better-sqlite3|mysql2|sqlstring|lru-cache|denque|named-placeholders|iconv-lite)\//.test(file(f)) || /server-kit\/dist\/db\.js|\/db\/[a-z-]+\.js$/.test(file(f))],
  ["protobuf encode/decode", (f) => /\/api\/dist\/gen\/|@bufbuild|protobufjs|long\//.test(file(f))],
  ["gRPC, HTTP/2, interceptors, handlers", (f) => /@grpc\/grpc-js|internal\/http2|server-kit\/dist\/(server|handlers|call-log|metrics|errors|rpc-status|tracing|auth)\.js|prom-client|@opentelemetry/.test(file(f))],
];

for (const name of readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
  const p = JSON.parse(readFileSync(join(dir, name), "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  if (!p.nodes.some((n) => file(n.callFrame).includes(`${server}/dist/`))) continue;
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id) => {
    const out = [];
    for (let x = id; x !== undefined; x = parent.get(x)) out.push(byId.get(x).callFrame);
    return out;
  };
  let from = 0;
  let to = p.samples.length - 1;
  if (windowFn) {
    const hits = p.samples.map((id, i) => (stackOf(id).some((f) => f.functionName === windowFn) ? i : -1)).filter((i) => i >= 0);
    if (hits.length === 0) continue;
    from = hits[0];
    to = hits[hits.length - 1];
  }
  const cats = new Map();
  const self = new Map();
  let busy = 0;
  let idle = 0;
  let ms = 0;
  for (let i = from; i <= to; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]) / 1000;
    const leaf = byId.get(p.samples[i]).callFrame;
    ms += dt;
    if (leaf.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    busy += dt;
    const stack = stackOf(p.samples[i]);
    const cat = CATEGORIES.find(([, m]) => stack.some(m))?.[0] ?? "other (node internals, app code)";
    cats.set(cat, (cats.get(cat) ?? 0) + dt);
    const key = `${leaf.functionName || "(anonymous)"} ${file(leaf).replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(?=[a-z-]+\/dist\/)/, "")}:${leaf.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  console.log(`\n${name}: ${ms.toFixed(0)} ms in the window, busy ${busy.toFixed(0)} ms (${((100 * busy) / ms).toFixed(1)}%), idle ${idle.toFixed(0)} ms`);
  for (const [c, t] of [...cats].sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${t.toFixed(0).padStart(6)} ms  ${c}`);
  console.log("  top self time:");
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
}
