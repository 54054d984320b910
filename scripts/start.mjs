#!/usr/bin/env node
// `npm start`: builds if needed, then runs auth-server, vote-server and tally-server as
// child processes on the embedded SQLite store (or DATABASE_URL), then the web front end,
// prints their addresses once they answer, and stops them all cleanly on Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

const build = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const grpc = await import("@grpc/grpc-js");
const protoLoader = await import("@grpc/proto-loader");
const { protoPath } = require("grpc-health-check");

const env = { ...process.env };
env.HOST ||= "127.0.0.1";
env.DATABASE_URL ||= "sqlite:data/voting.sqlite";
env.LOG_LEVEL ||= "warn";
env.AUTH_PORT ||= "50051";
env.VOTE_PORT ||= "50052";
env.TALLY_PORT ||= "50053";
env.AUTH_ADDR ||= `localhost:${env.AUTH_PORT}`;
env.VOTE_ADDR ||= `localhost:${env.VOTE_PORT}`;
env.TALLY_ADDR ||= `localhost:${env.TALLY_PORT}`;
env.WEB_PORT ||= "8080";
// The web front end dials the servers over TLS when they speak it.
if (env.TLS_CA_FILE) env.VOTING_CA_FILE ||= env.TLS_CA_FILE;
// vote-server and tally-server sign client assertions with their own Ed25519 keys; made
// once under data/keys/ (private keys mode 0600) unless the key files are set.
if (!env.SERVICE_PUBLIC_KEYS_FILE && !env.VOTE_SERVICE_KEY_FILE && !env.TALLY_SERVICE_KEY_FILE) {
  const { ensureServiceKeyFiles } = await import("@voting/server-kit");
  const keys = ensureServiceKeyFiles(`${root}data/keys`);
  env.SERVICE_PUBLIC_KEYS_FILE = keys.publicKeysFile;
  env.VOTE_SERVICE_KEY_FILE = keys.privateKeyFiles["svc-vote"];
  env.TALLY_SERVICE_KEY_FILE = keys.privateKeyFiles["svc-tally"];
}
// Signing keys are kept in the store sealed with a key-encryption key, made once and kept
// beside the store (never in it). Losing it loses the keys; see "Keys" in README.md.
if (!env.KEY_ENCRYPTION_KEY && !env.KEY_ENCRYPTION_KEY_FILE) {
  env.KEY_ENCRYPTION_KEY_FILE = join(root, "data", "keys", "key-encryption-key");
  if (!existsSync(env.KEY_ENCRYPTION_KEY_FILE)) {
    mkdirSync(join(root, "data", "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(env.KEY_ENCRYPTION_KEY_FILE, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    console.log(`Made a key-encryption key for the signing keys: ${env.KEY_ENCRYPTION_KEY_FILE}`);
  }
}

const services = [
  { name: "auth-server", port: env.AUTH_PORT },
  { name: "vote-server", port: env.VOTE_PORT },
  { name: "tally-server", port: env.TALLY_PORT },
];

let stopping = false;
const children = [];
function launch(s) {
  const child = spawn(process.execPath, [`${s.name}/dist/main.js`], { cwd: root, env, stdio: s.stdio ?? "inherit" });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${s.name} exited (${signal ?? code}); stopping the others`);
      stop(1);
    }
  });
  children.push(child);
}

let exitCode = 0;
function stop(code) {
  exitCode ||= code;
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
}
// Ctrl-C reaches the children too (same process group); they stop themselves.
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

const health = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })).grpc.health.v1.Health;

// Plaintext unless TLS is on (TLS_* set); then verify the servers as "localhost", a name their certificates carry.
const probe = env.TLS_CA_FILE
  ? [grpc.credentials.createSsl(readFileSync(env.TLS_CA_FILE)), { "grpc.ssl_target_name_override": "localhost" }]
  : [grpc.credentials.createInsecure(), {}];

function serving(port) {
  const client = new health(`127.0.0.1:${port}`, ...probe);
  return new Promise((resolve) =>
    client.check({ service: "" }, { deadline: Date.now() + 1_000 }, (err, res) => {
      client.close();
      resolve(!err && res.status === "SERVING");
    }),
  );
}

// One after the other, each once the previous answers its health check, so nobody
// starts by retrying a peer that is not up yet.
for (const s of services) {
  if (stopping) break;
  launch(s);
  while (!stopping && !(await serving(s.port))) await new Promise((r) => setTimeout(r, 100));
}
// The web front end last: it prints its URL once it listens.
const webHost = env.WEB_HOST || env.HOST;
async function webAnswers() {
  try {
    return (await fetch(`http://${webHost.includes(":") ? `[${webHost}]` : webHost}:${env.WEB_PORT}/login`)).ok;
  } catch {
    return false;
  }
}
if (!stopping && !env.WEB_TLS_CERT_FILE) {
  launch({ name: "web", stdio: ["ignore", "ignore", "inherit"] });
  while (!stopping && !(await webAnswers())) await new Promise((r) => setTimeout(r, 100));
} else if (!stopping) launch({ name: "web" });
const exited = Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.on("exit", resolve)))));
if (!stopping) {
  console.log(`Voting system running on ${env.DATABASE_URL}:`);
  for (const s of services) console.log(`  ${s.name.padEnd(13)} ${env.HOST}:${s.port}`);
  console.log(`  ${"web".padEnd(13)} ${env.WEB_TLS_CERT_FILE ? "https" : "http"}://${webHost}:${env.WEB_PORT}/  (open it in a browser)`);
  const ca = env.TLS_CA_FILE ? ` --ca ${env.TLS_CA_FILE}` : "";
  console.log(`Try: npx voting${ca} register alice secret-pw1 candidate   (see README). Ctrl-C stops them all.`);
}

await exited;
process.exit(exitCode);
