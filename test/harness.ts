// Starts the three real servers in-process on free loopback ports, on a fresh database
// (SQLite in a temp directory or a new MySQL/MariaDB database), and tears it all down.
import { startAuthServer, readAuthConfig } from "@voting/auth-server";
import { startVoteServer, readVoteConfig } from "@voting/vote-server";
import { startTallyServer, readTallyConfig } from "@voting/tally-server";
import { createVotingClient, authV1, type VotingClient } from "@voting/client";
import { createLogger, ensureServiceKeyFiles, openDatabase, type Database, type Logger } from "@voting/server-kit";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe } from "vitest";

export type Store = "sqlite" | "mysql";

let mysqlBase: Promise<string | undefined> | undefined;
let container: { stop(): Promise<unknown> } | undefined;

async function reachable(url: string): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ uri: url, connectTimeout: 2_000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** Server URL without a database: VOTING_TEST_MYSQL_URL, else 127.0.0.1:3306, else testcontainers. */
export function mysqlServerUrl(): Promise<string | undefined> {
  return (mysqlBase ??= (async () => {
    const fromEnv = process.env.VOTING_TEST_MYSQL_URL;
    if (fromEnv) return fromEnv.replace(/\/+$/, "");
    const local = "mysql://root@127.0.0.1:3306";
    if (await reachable(local)) return local;
    try {
      const { MySqlContainer } = await import("@testcontainers/mysql");
      const started = await new MySqlContainer("mysql:8.4").withRootPassword("test").start();
      container = started;
      return `mysql://root:test@${started.getHost()}:${started.getMappedPort(3306)}`;
    } catch (err) {
      console.warn(`\n*** MySQL/MariaDB tests SKIPPED: no VOTING_TEST_MYSQL_URL, nothing on 127.0.0.1:3306, no Docker engine (${(err as Error).message}) ***\n`);
      return undefined;
    }
  })());
}

export async function stopContainer(): Promise<void> {
  await container?.stop();
}

/** Stores to run a suite on: SQLite always, MySQL when reachable (else a loud skip). */
export const stores: Store[] = ["sqlite", "mysql"];
const mysqlAvailable = (await mysqlServerUrl()) !== undefined;

/**
 * Declares the suite once per store, each with its own fresh system. `sys()` returns the
 * running system inside tests.
 */
export interface SystemOptions {
  /** Where the servers log (default: nowhere). */
  log?: Logger;
  /** The MySQL/MariaDB server to use instead of mysqlServerUrl() (e.g. a private one). */
  mysqlBase?: string;
}

export function describeOnStores(title: string, body: (sys: () => System, store: Store) => void, extraEnv: Record<string, string> = {}, opts: SystemOptions = {}): void {
  for (const store of stores) {
    describe.skipIf(store === "mysql" && !mysqlAvailable)(`${title} [${store}]`, () => {
      let system: System | undefined;
      beforeAll(async () => {
        system = await startSystem(store, extraEnv, opts);
      });
      afterAll(async () => {
        await system?.stop();
      });
      body(() => {
        if (!system) throw new Error("system not started");
        return system;
      }, store);
    });
  }
}

export interface System {
  store: Store;
  databaseUrl: string;
  env: Record<string, string>;
  addrs: { auth: string; vote: string; tally: string };
  /** A client for these servers; pass a token to act as a user. */
  client(token?: string): VotingClient;
  /** Direct database access for checking what was (not) written. */
  db: Database<any>;
  /** The bootstrap admin's access token. */
  adminToken(): Promise<string>;
  /** Registers and logs in; returns the user and an access token. */
  user(role: "voter" | "candidate", name?: string): Promise<{ id: number; username: string; password: string; token: string }>;
  restartTally(): Promise<void>;
  /** Bound `/metrics` ports of the servers started with AUTH/VOTE/TALLY_METRICS_PORT. */
  metricsPorts(): { auth?: number; vote?: number; tally?: number };
  /** Stops vote-server and starts it again on the same port and database, after pauseMs. */
  restartVote(pauseMs?: number): Promise<void>;
  /** Stops auth-server; startAuth starts it again on the same port and database. */
  stopAuth(): Promise<void>;
  startAuth(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;

export async function startSystem(store: Store, extraEnv: Record<string, string> = {}, opts: SystemOptions = {}): Promise<System> {
  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  // Each system has its own service keys (client assertions of svc-vote and svc-tally).
  const dir = await mkdtemp(join(tmpdir(), "voting-test-"));
  const keys = ensureServiceKeyFiles(join(dir, "keys"));
  if (store === "sqlite") {
    databaseUrl = `sqlite:${join(dir, "voting.sqlite")}`;
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    const base = opts.mysqlBase ?? (await mysqlServerUrl());
    if (!base) throw new Error("no MySQL server");
    const name = `voting_test_${randomBytes(6).toString("hex")}`;
    const admin = await mysql.createConnection({ uri: base });
    await admin.query(`CREATE DATABASE \`${name}\``);
    await admin.end();
    databaseUrl = `${base}/${name}`;
    cleanup = async () => {
      const c = await mysql.createConnection({ uri: base });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile,
    VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"],
    TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
    PEER_CHECK_EVERY_MS: "500",
    // Signing keys are sealed in the store with this system's own key-encryption key.
    KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    // Every test user logs in from 127.0.0.1; suites that test this limit set it.
    LOGIN_MAX_ATTEMPTS_PER_PEER: "1000000",
    REGISTER_MAX_PER_PEER: "1000000",
    VOTING_ADMIN_USERNAME: "admin",
    VOTING_ADMIN_PASSWORD: "admin-password",
    AUTH_PORT: "0",
    VOTE_PORT: "0",
    TALLY_PORT: "0",
    ...extraEnv,
  };
  const log = opts.log ?? createLogger("test", "silent");
  // "vote-server:TLS_CERT_FILE" in env overrides TLS_CERT_FILE for vote-server only (each server its own certificate).
  const of = (server: string) => ({ ...env, ...Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(`${server}:`)).map(([k, v]) => [k.slice(server.length + 1), v])) });
  let auth = await startAuthServer(readAuthConfig(of("auth-server")), log);
  env.AUTH_ADDR = `127.0.0.1:${auth.port}`;
  let vote = await startVoteServer(readVoteConfig(of("vote-server")), log);
  env.VOTE_ADDR = `127.0.0.1:${vote.port}`;
  let tally = await startTallyServer(readTallyConfig(of("tally-server")), log);
  env.TALLY_ADDR = `127.0.0.1:${tally.port}`;
  const addrs = { auth: env.AUTH_ADDR, vote: env.VOTE_ADDR, tally: env.TALLY_ADDR };
  // A system started with TLS_* in extraEnv (see tls-certs.ts) is dialled over TLS, as the public does: no client certificate.
  const tls = env.TLS_CA_FILE ? { ca: await readFile(env.TLS_CA_FILE) } : undefined;

  const clients: VotingClient[] = [];
  const client = (token?: string) => {
    const c = createVotingClient({ authAddr: addrs.auth, voteAddr: addrs.vote, tallyAddr: addrs.tally, token, waitForReady: true, tls });
    clients.push(c);
    return c;
  };
  const anonymous = client();
  const db = openDatabase<any>(databaseUrl);

  return {
    store,
    databaseUrl,
    env,
    addrs,
    client,
    db,
    async adminToken() {
      return (await anonymous.auth.login({ username: env.VOTING_ADMIN_USERNAME, password: env.VOTING_ADMIN_PASSWORD })).tokens!.accessToken;
    },
    async user(role, name) {
      const username = name ?? uniqueName(role);
      const password = `pw-${randomBytes(8).toString("hex")}`;
      const r = await anonymous.auth.register({ username, password, role: role === "voter" ? authV1.Role.ROLE_VOTER : authV1.Role.ROLE_CANDIDATE });
      const login = await anonymous.auth.login({ username, password });
      return { id: r.user!.id, username, password, token: login.tokens!.accessToken };
    },
    metricsPorts: () => ({ auth: auth.metricsPort, vote: vote.metricsPort, tally: tally.metricsPort }),
    async restartTally() {
      await tally.stop();
      tally = await startTallyServer(readTallyConfig({ ...of("tally-server"), TALLY_PORT: String(addrs.tally.split(":")[1]) }), log);
    },
    async restartVote(pauseMs = 0) {
      await vote.stop();
      await new Promise((r) => setTimeout(r, pauseMs));
      vote = await startVoteServer(readVoteConfig({ ...of("vote-server"), VOTE_PORT: String(addrs.vote.split(":")[1]) }), log);
    },
    async stopAuth() {
      await auth.stop();
    },
    async startAuth() {
      auth = await startAuthServer(readAuthConfig({ ...of("auth-server"), AUTH_PORT: String(auth.port) }), log);
    },
    async stop() {
      for (const c of clients) c.close();
      await Promise.allSettled([tally.stop(), vote.stop()]);
      await auth.stop();
      await db.close();
      await cleanup();
    },
  };
}

/** A loopback port free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls until check returns a value other than undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ""}`);
}

/** Row counts of every table a request could write, to prove a refusal changed nothing. */
export async function rowCounts(sys: System): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ["users", "auth_signing_keys", "elections", "ballots", "participations"]) {
    const r = await sys.db.kysely.selectFrom(table).select((eb: any) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

/** The built `voting` binary, as users run it. */
export const VOTING_BIN = fileURLToPath(new URL("../client/bin/voting.js", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with this environment and collects its output and exit code. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VOTING_BIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment that points the CLI at a system's servers, keeping its files in configDir. */
export function cliEnv(sys: System, configDir: string): NodeJS.ProcessEnv {
  return { ...process.env, AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, VOTING_CONFIG_DIR: configDir };
}
