// Fault injection against the real, built servers: each runs as its own child process
// (`node <svc>/dist/main.js`, as `npm start` runs them) on a fresh MySQL/MariaDB database, so
// that a test can SIGKILL one mid-flight and start it again on the same port and database.
// `npm test` builds the dist files (`tsc -b`) before vitest runs.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, it, onTestFailed } from "vitest";
import { checkChain } from "@voting/election-core";
import { authV1, createVotingClient, isServiceError, newIdempotencyKey, Status, voteV1, type VotingClient } from "@voting/client";
import { ensureServiceKeyFiles } from "@voting/server-kit";
import { eventually, freePort, mysqlServerUrl, stopContainer } from "./harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const mysqlBase = await mysqlServerUrl();
if (!mysqlBase) console.warn("\n*** fault-injection tests (test/faults.test.ts) SKIPPED: no MySQL/MariaDB reachable ***\n");
for (const svc of ["auth-server", "vote-server", "tally-server"]) {
  if (mysqlBase && !existsSync(join(root, svc, "dist/main.js"))) throw new Error(`${svc}/dist/main.js is missing: run \`npx tsc -b\` (npm test does) first`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Svc = "auth-server" | "vote-server" | "tally-server";
type Receipt = voteV1.Receipt;
type Entry = { electionId: number; seq: number; trackingCode: string; commitment: string; choices: number[]; salt: string; hash: string };

/** Every child this file started, so that nothing outlives the run whatever happens. */
const allChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of allChildren) c.kill("SIGKILL");
});

/** Runs fn over items with at most `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}


const codeOf = (err: unknown) => (isServiceError(err) ? (Status[err.code] ?? String(err.code)) : `non-gRPC: ${(err as Error)?.message}`);
const retryable = (err: unknown) => isServiceError(err) && (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED);

/** One server process: can be SIGKILLed and started again on the same port and database. */
class Proc {
  child?: ChildProcess;
  starts = 0;
  readonly output: string[] = [];
  constructor(
    readonly name: string,
    readonly svc: Svc,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get addr() {
    return `127.0.0.1:${this.port}`;
  }

  spawn(): void {
    if (this.child) throw new Error(`${this.name} is already running`);
    this.starts++;
    const child = spawn(process.execPath, [join(root, this.svc, "dist/main.js")], { cwd: root, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    allChildren.add(child);
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.output.push(`[${this.name}#${this.starts}] ${line.slice(0, 600)}`);
      if (this.output.length > 300) this.output.splice(0, this.output.length - 300);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("exit", (code, signal) => {
      allChildren.delete(child);
      if (this.child === child) this.child = undefined;
      if (signal !== "SIGKILL" && signal !== "SIGTERM") this.output.push(`[${this.name}#${this.starts}] exited with code ${code} signal ${signal}`);
    });
    this.child = child;
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}

/** A fresh database and the server processes on it. */
class Cluster {
  readonly procs: Proc[] = [];
  private readonly clients: VotingClient[] = [];
  readonly baseEnv: Record<string, string>;
  private readonly keysDir = mkdtempSync(join(tmpdir(), "voting-faults-keys-"));
  authAddr = "";
  electionId = 1;

  private constructor(
    readonly dbName: string,
    readonly databaseUrl: string,
  ) {
    this.baseEnv = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...serviceKeyEnv(this.keysDir),
      KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ARGON2_MEMORY_KIB: "1024",
      ARGON2_TIME_COST: "1",
      LOGIN_MAX_ATTEMPTS_PER_PEER: "1000000",
      REGISTER_MAX_PER_PEER: "1000000",
    };
  }

  static async create(): Promise<Cluster> {
    const name = `voting_faults_${randomBytes(6).toString("hex")}`;
    const c = await mysql.createConnection({ uri: mysqlBase! });
    await c.query(`CREATE DATABASE \`${name}\``);
    await c.end();
    return new Cluster(name, `${mysqlBase}/${name}`);
  }

  /** A client of these addresses; closed with the cluster. */
  client(addrs: { auth?: string; vote?: string; tally?: string } = {}): VotingClient {
    const c = createVotingClient({ authAddr: addrs.auth ?? this.authAddr, voteAddr: addrs.vote, tallyAddr: addrs.tally });
    this.clients.push(c);
    return c;
  }

  logs(): string {
    return this.procs.flatMap((p) => p.output.slice(-60)).join("\n");
  }

  async startAuth(): Promise<Proc> {
    const port = await freePort();
    const p = new Proc("auth", "auth-server", port, { ...this.baseEnv, AUTH_PORT: String(port) });
    this.authAddr = p.addr;
    this.procs.push(p);
    await this.launch(p);
    return p;
  }

  async startVote(name: string): Promise<Proc> {
    const port = await freePort();
    const p = new Proc(name, "vote-server", port, { ...this.baseEnv, AUTH_ADDR: this.authAddr, VOTE_PORT: String(port) });
    this.procs.push(p);
    await this.launch(p);
    return p;
  }

  async startTally(name: string, vote: Proc): Promise<Proc> {
    const port = await freePort();
    const p = new Proc(name, "tally-server", port, { ...this.baseEnv, AUTH_ADDR: this.authAddr, VOTE_ADDR: vote.addr, TALLY_PORT: String(port) });
    this.procs.push(p);
    await this.launch(p);
    return p;
  }

  /** Starts (or starts again) a process on its port and waits until it answers a call. */
  async launch(p: Proc): Promise<void> {
    p.spawn();
    const end = Date.now() + 20_000;
    let last: unknown;
    while (Date.now() < end) {
      if (!p.child) throw new Error(`${p.name} exited during start-up:\n${p.output.slice(-30).join("\n")}`);
      // A fresh channel per probe: a channel that was refused waits out a reconnect backoff.
      const probe = createVotingClient({ authAddr: p.addr, voteAddr: p.addr, tallyAddr: p.addr });
      try {
        if (p.svc === "auth-server") await probe.auth.getJwks({ deadlineMs: 1_000 });
        else if (p.svc === "vote-server") await probe.elections.getElection({ electionId: this.electionId }, { deadlineMs: 2_000 });
        else await probe.tally.getResults({ electionId: this.electionId }, { deadlineMs: 2_000 });
        return;
      } catch (err) {
        last = err;
      } finally {
        probe.close();
      }
      await sleep(100);
    }
    throw new Error(`${p.name} did not answer within 20 s (${(last as Error)?.message}):\n${p.output.slice(-30).join("\n")}`);
  }

  async registerCandidates(n: number): Promise<number[]> {
    const anon = this.client();
    const tag = randomBytes(3).toString("hex");
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await anon.auth.register({ username: `cand${i}-${tag}`, password: "candidate-password", role: authV1.Role.ROLE_CANDIDATE });
      ids.push(r.user!.id);
    }
    return ids;
  }

  /** Registers and logs in n voters; returns their ids and access tokens. */
  async registerVoters(n: number): Promise<{ id: number; token: string }[]> {
    const anon = this.client();
    const tag = randomBytes(3).toString("hex");
    const out: { id: number; token: string }[] = new Array(n);
    await pool([...Array(n).keys()], 16, async (i) => {
      const username = `voter${i}-${tag}`;
      const r = await anon.auth.register({ username, password: "voter-password", role: authV1.Role.ROLE_VOTER });
      const login = await anon.auth.login({ username, password: "voter-password" });
      out[i] = { id: r.user!.id, token: login.tokens!.accessToken };
    });
    return out;
  }

  /** The whole log of the election, read (not followed) from one vote-server. */
  async readLog(vote: Proc): Promise<Entry[]> {
    const c = createVotingClient({ voteAddr: vote.addr });
    try {
      const entries: Entry[] = [];
      const stream = await c.votes.streamBallots({ electionId: this.electionId, afterSeq: 0 }, { deadlineMs: 20_000 });
      for await (const msg of stream as AsyncIterable<voteV1.StreamBallotsResponse>) {
        for (const e of msg.entries) entries.push({ electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot?.choices ?? [], salt: e.salt, hash: e.hash });
      }
      return entries;
    } finally {
      c.close();
    }
  }

  async election(vote: Proc): Promise<voteV1.Election> {
    const c = createVotingClient({ voteAddr: vote.addr });
    try {
      return (await c.elections.getElection({ electionId: this.electionId }, { deadlineMs: 5_000 })).election!;
    } finally {
      c.close();
    }
  }

  /** Waits until this tally-server has counted through `seq`, and returns its result. */
  async resultAt(tally: Proc, seq: number, timeoutMs = 25_000) {
    const c = createVotingClient({ tallyAddr: tally.addr });
    try {
      return await eventually(
        async () => {
          const r = (await c.tally.getResults({ electionId: this.electionId }, { deadlineMs: 3_000 })).result!;
          if (r.countedThroughSeq > seq) throw new Error(`${tally.name} counted through ${r.countedThroughSeq}, past the log's ${seq}`);
          return r.countedThroughSeq === seq ? r : undefined;
        },
        timeoutMs,
        `${tally.name} counted through seq ${seq}`,
      );
    } finally {
      c.close();
    }
  }

  /** Rows in the database, to check the store itself. */
  async query<T>(q: string, params: unknown[] = []): Promise<T[]> {
    const c = await mysql.createConnection({ uri: this.databaseUrl });
    try {
      const [rows] = await c.query(q, params);
      return rows as T[];
    } finally {
      await c.end();
    }
  }

  async destroy(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(this.procs.map((p) => p.kill()));
    const c = await mysql.createConnection({ uri: mysqlBase! });
    try {
      await c.query(`DROP DATABASE IF EXISTS \`${this.dbName}\``);
    } finally {
      await c.end();
      rmSync(this.keysDir, { recursive: true, force: true });
    }
  }
}

function serviceKeyEnv(dir: string): Record<string, string> {
  const keys = ensureServiceKeyFiles(dir);
  return {
    SERVICE_PUBLIC_KEYS_FILE: keys.publicKeysFile,
    VOTE_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-vote"],
    TALLY_SERVICE_KEY_FILE: keys.privateKeyFiles["svc-tally"],
  };
}

const open: Cluster[] = [];
async function withCluster(body: (cl: Cluster) => Promise<void>): Promise<void> {
  const cl = await Cluster.create();
  open.push(cl);
  onTestFailed(() => {
    console.error(`--- server output (last lines per process) ---\n${cl.logs()}`);
  });
  try {
    await body(cl);
  } finally {
    open.splice(open.indexOf(cl), 1);
    await cl.destroy();
  }
}

/** The log is 1..N without gaps and its chain verifies from the election's genesis hash to its head. */
function expectIntactLog(entries: Entry[], election: voteV1.Election): void {
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  expect(election.logFormat).toBe(2);
  const chain = checkChain(2, { seq: 0, hash: election.logGenesisHash }, entries, { requireBallots: true });
  expect(chain).toEqual({ ok: true, headSeq: entries.length, headHash: election.logHeadHash, sealed: 0 });
  expect(election.ballotCount).toBe(entries.length);
  expect(new Set(entries.map((e) => e.trackingCode)).size).toBe(entries.length);
}

/** Plurality recount of the log: candidate id -> ballots. */
function recount(entries: Entry[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of entries) {
    expect(e.choices).toHaveLength(1);
    counts.set(e.choices[0], (counts.get(e.choices[0]) ?? 0) + 1);
  }
  return counts;
}

/** A tally result as candidate id -> ballots, leaving out candidates with none. */
function counted(result: { candidates: { candidateId: number; votes: string }[] }): Map<number, number> {
  return new Map(result.candidates.filter((c) => Number(c.votes) > 0).map((c) => [c.candidateId, Number(c.votes)]));
}

const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);

afterAll(async () => {
  for (const cl of [...open]) await cl.destroy().catch(() => undefined);
  for (const c of allChildren) c.kill("SIGKILL");
  await stopContainer();
});

describe.skipIf(!mysqlBase)("fault injection: servers as child processes killed with SIGKILL [mysql]", () => {
  it("when vote-server is SIGKILLed while 300 ballots are being cast and the failed voters retry with the same key on a new vote-server, then every acknowledged receipt is in the gap-free chained log, no ballot is doubled and the tally equals the recount", { timeout: 55_000 }, async () => {
    await withCluster(async (cl) => {
      await cl.startAuth();
      const vote = await cl.startVote("vote");
      const tally = await cl.startTally("tally", vote);
      const candidates = await cl.registerCandidates(3);
      const voters = (await cl.registerVoters(300)).map((v, i) => ({ ...v, choice: candidates[i % 3], key: newIdempotencyKey() }));

      // Cast with 24 calls in flight. From the 100th acknowledgement on, freeze vote-server
      // (SIGSTOP) now and then and look at the store: when it holds more ballots than were
      // acknowledged, a commit's replies are still inside the process, so SIGKILL it right
      // then. (After a bounded number of tries it is killed anyway.)
      const acked = new Map<number, Receipt>(); // voter index -> receipt acknowledged before the kill
      const failed = new Map<number, string>(); // voter index -> status of the failed call
      const caster = cl.client({ vote: vote.addr });
      let killDue: () => void = () => undefined;
      const due = new Promise<void>((r) => (killDue = r));
      let freezes = 0;
      const killer = (async () => {
        await due;
        const db = await mysql.createConnection({ uri: cl.databaseUrl });
        try {
          for (; freezes < 40; freezes++) {
            vote.signal("SIGSTOP");
            await sleep(30); // replies already sent arrive meanwhile
            const [[{ head }]] = (await db.query("SELECT head_seq AS head FROM elections WHERE id = ?", [cl.electionId])) as unknown as [{ head: number }[]];
            if (Number(head) > acked.size) break;
            vote.signal("SIGCONT");
            await sleep(1 + Math.floor(Math.random() * 8));
          }
        } finally {
          await db.end();
          await vote.kill();
        }
      })();
      await pool(voters, 24, async (v, i) => {
        try {
          const { receipt } = await caster.votes.castVote({ electionId: cl.electionId, ballot: { choices: [v.choice] }, idempotencyKey: v.key }, { token: v.token, deadlineMs: 15_000 });
          acked.set(i, receipt!);
          if (acked.size === 100) killDue();
        } catch (err) {
          failed.set(i, codeOf(err));
        }
      });
      killDue();
      await killer;
      expect(acked.size + failed.size).toBe(300);
      expect(acked.size).toBeGreaterThanOrEqual(100);
      expect(failed.size, "calls failed after the kill").toBeGreaterThan(0);
      const failureCodes = [...new Set(failed.values())];
      console.log(`vote-server kill: ${acked.size} acknowledged, ${failed.size} failed (${failureCodes.join(", ")}), killed after ${freezes} freezes`);
      expect(failureCodes.filter((c) => c !== "UNAVAILABLE" && c !== "CANCELLED" && c !== "INTERNAL" && c !== "DEADLINE_EXCEEDED")).toEqual([]);

      // A new vote-server on the same port and database; the failed voters retry with the same key and ballot.
      await cl.launch(vote);
      // Ballots committed before the kill, including those whose acknowledgement was lost with the process.
      const headAtRestart = (await cl.election(vote)).ballotCount;
      expect(headAtRestart).toBeGreaterThanOrEqual(acked.size);
      for (const r of acked.values()) expect(r.seq).toBeLessThanOrEqual(headAtRestart);
      const retrier = cl.client({ vote: vote.addr });
      const finalReceipt = new Map<number, Receipt>(acked);
      const retryErrors: string[] = [];
      await pool([...failed.keys()], 16, async (i) => {
        const v = voters[i];
        for (let attempt = 0; ; attempt++) {
          try {
            const { receipt } = await retrier.votes.castVote({ electionId: cl.electionId, ballot: { choices: [v.choice] }, idempotencyKey: v.key }, { token: v.token, deadlineMs: 10_000 });
            finalReceipt.set(i, receipt!);
            return;
          } catch (err) {
            if (!retryable(err) || attempt >= 20) {
              retryErrors.push(`voter ${i}: ${codeOf(err)} ${(err as Error).message}`);
              return;
            }
            await sleep(100);
          }
        }
      });
      expect(retryErrors).toEqual([]);
      expect(finalReceipt.size).toBe(300);
      // A retry of a ballot that was committed but not acknowledged got that ballot's receipt (seq
      // at or below the head at restart); every other retry a new entry after it.
      const retriedSeqs = [...failed.keys()].map((i) => finalReceipt.get(i)!.seq);
      const recovered = retriedSeqs.filter((seq) => seq <= headAtRestart).length;
      expect(recovered).toBe(headAtRestart - acked.size);
      expect(retriedSeqs.filter((seq) => seq > headAtRestart).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 300 - headAtRestart }, (_, k) => headAtRestart + k + 1),
      );
      console.log(`vote-server kill: ${recovered} ballots were committed but not acknowledged; their retries got the original receipt`);

      // Acknowledged voters sending their ballot again get the original receipt; a different ballot is refused.
      await pool([...acked.keys()], 16, async (i) => {
        const v = voters[i];
        const again = await retrier.votes.castVote({ electionId: cl.electionId, ballot: { choices: [v.choice] }, idempotencyKey: v.key }, { token: v.token });
        expect(again.receipt).toEqual(acked.get(i));
      });
      for (const i of [...acked.keys()].slice(0, 10)) {
        const v = voters[i];
        const other = candidates.find((c) => c !== v.choice)!;
        await expect(retrier.votes.castVote({ electionId: cl.electionId, ballot: { choices: [other] } }, { token: v.token })).rejects.toMatchObject({ code: Status.ALREADY_EXISTS });
      }

      // The log: gap-free, chained, one entry per voter, every receipt in it with the voter's ballot.
      const election = await cl.election(vote);
      const entries = await cl.readLog(vote);
      expectIntactLog(entries, election);
      expect(entries.length).toBe(300);
      expect(new Set([...finalReceipt.values()].map((r) => r.trackingCode)).size).toBe(300);
      for (const [i, r] of finalReceipt) {
        const e = entries[r.seq - 1];
        expect(e, `receipt of voter ${i} (seq ${r.seq})`).toBeDefined();
        expect({ seq: e.seq, hash: e.hash, trackingCode: e.trackingCode, choices: e.choices }).toEqual({ seq: r.seq, hash: r.ballotHash, trackingCode: r.trackingCode, choices: [voters[i].choice] });
      }
      // GetReceipt finds every receipt acknowledged before the kill.
      await pool([...acked.values()], 16, async (r) => {
        const { entry } = await retrier.votes.getReceipt({ trackingCode: r.trackingCode });
        expect({ seq: entry!.seq, hash: entry!.hash }).toEqual({ seq: r.seq, hash: r.ballotHash });
      });
      const [{ n: participations }] = await cl.query<{ n: number }>("SELECT COUNT(*) AS n FROM participations WHERE election_id = ?", [cl.electionId]);
      expect(Number(participations)).toBe(300);

      // The tally (which lost its vote-server mid-stream) counts exactly the log.
      const result = await cl.resultAt(tally, entries.length);
      expect(sorted(counted(result))).toEqual(sorted(recount(entries)));
      expect(result.totalBallots).toBe(entries.length);
      expect(result.logHeadHash).toBe(election.logHeadHash);
    });
  });

  it("when tally-server is SIGKILLed and restarted three times while 300 ballots are cast, then its result equals a recount of the log, counted through the log's last seq at the election's head hash", { timeout: 55_000 }, async () => {
    await withCluster(async (cl) => {
      await cl.startAuth();
      const vote = await cl.startVote("vote");
      const tally = await cl.startTally("tally", vote);
      const candidates = await cl.registerCandidates(3);
      const voters = await cl.registerVoters(300);
      const tallyClient = () => createVotingClient({ tallyAddr: tally.addr });
      const countedSeq = async () => {
        const c = tallyClient();
        try {
          return (await c.tally.getResults({ electionId: cl.electionId }, { deadlineMs: 2_000 })).result!.countedThroughSeq;
        } finally {
          c.close();
        }
      };

      // At each threshold the chaos loop SIGKILLs tally-server and starts it again. The first
      // and third kills land inside an apply transaction: the test holds a lock on the counts
      // (tally_ballots), waits until tally-server's transaction, having moved its progress row,
      // waits for that lock, and kills it then. The second lands at a random moment.
      // Casting goes on meanwhile, but pauses 40 ballots past a threshold until the kill there
      // is under way.
      const thresholds = [60, 140, 220];
      let acks = 0;
      let kills = 0;
      let killing = false;
      const killedAt: string[] = [];
      let gateChanged: () => void = () => undefined;
      let gate = new Promise<void>((r) => (gateChanged = r));
      const openGate = () => {
        gateChanged();
        gate = new Promise<void>((r) => (gateChanged = r));
      };
      const locker = await mysql.createConnection({ uri: cl.databaseUrl });
      // Statements writing counts while the test holds them locked are waiting for the lock.
      // (The process list is live; information_schema.innodb_trx is a cache that polling keeps stale.)
      const lockWaits = async () => {
        const [rows] = (await locker.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND info LIKE 'insert into `tally_ballots`%'", [cl.dbName])) as unknown as [{ n: number }[]];
        return Number(rows[0].n);
      };
      const chaos = (async () => {
        for (const [k, threshold] of thresholds.entries()) {
          await eventually(async () => (acks >= threshold ? true : undefined), 30_000, `${threshold} acknowledgements`);
          if (k === 1) {
            killing = true;
            openGate();
            await sleep(Math.floor(Math.random() * 20));
            killedAt.push(`${acks}`);
            await tally.kill();
          } else {
            // Lock the counts first, then let ballots flow: the next apply has to wait.
            for (let attempt = 0; ; attempt++) {
              await locker.query("START TRANSACTION");
              try {
                await locker.query("SELECT choices FROM tally_ballots WHERE election_id = ? FOR UPDATE", [cl.electionId]);
                break;
              } catch (err) {
                // Locking rows in another order than a running apply can deadlock; take turns.
                await locker.query("ROLLBACK");
                if ((err as { errno?: number }).errno !== 1213 || attempt >= 20) throw err;
                await sleep(5);
              }
            }
            killing = true;
            openGate();
            try {
              const end = Date.now() + 15_000;
              while ((await lockWaits()) === 0) {
                if (Date.now() > end) throw new Error(`tally-server's apply transaction did not wait for the locked counts within 15 s (${acks} acknowledgements)`);
                await sleep(20);
              }
              killedAt.push(`${acks} (inside an apply transaction)`);
              await tally.kill();
            } finally {
              await locker.query("ROLLBACK");
            }
          }
          kills++;
          killing = false;
          openGate();
          await cl.launch(tally);
          // Let the new process count something before the next kill.
          const before = acks - 40;
          await eventually(async () => ((await countedSeq()) > before ? true : undefined), 20_000, "tally-server counting after restart");
        }
      })();
      const caster = cl.client({ vote: vote.addr });
      const receipts: Receipt[] = [];
      const casting = pool(voters, 8, async (v, i) => {
        while (!killing && kills < thresholds.length && acks >= thresholds[kills] + 40) await gate;
        const { receipt } = await caster.votes.castVote({ electionId: cl.electionId, ballot: { choices: [candidates[i % 3]] } }, { token: v.token });
        receipts.push(receipt!);
        acks++;
        await sleep(3);
      });
      try {
        await Promise.all([casting, chaos]);
      } finally {
        await locker.end();
      }
      expect(kills).toBe(3);
      expect(tally.starts).toBe(4);
      console.log(`tally-server killed at ${killedAt.join(", ")} acknowledgements`);

      const election = await cl.election(vote);
      const entries = await cl.readLog(vote);
      expectIntactLog(entries, election);
      expect(entries.length).toBe(300);
      expect(new Set(receipts.map((r) => r.seq)).size).toBe(300);

      const result = await cl.resultAt(tally, entries.length);
      expect(sorted(counted(result))).toEqual(sorted(recount(entries)));
      expect(result.totalBallots).toBe(entries.length);
      expect(result.logHeadHash).toBe(election.logHeadHash);
      // What tally-server committed: progress at the head, every ballot counted exactly once.
      const [progress] = await cl.query<{ last_seq: number; last_hash: string }>("SELECT last_seq, last_hash FROM tally_progress WHERE election_id = ?", [cl.electionId]);
      expect({ seq: Number(progress.last_seq), hash: progress.last_hash }).toEqual({ seq: entries.length, hash: election.logHeadHash });
      const [{ n }] = await cl.query<{ n: number }>("SELECT SUM(n_ballots) AS n FROM tally_ballots WHERE election_id = ?", [cl.electionId]);
      expect(Number(n)).toBe(entries.length);
    });
  });

  it("when one voter races two ballots (and, separately, one ballot with one key) through two vote-server replicas at once, 50 voters each, then each voter has exactly one ballot, the log is intact and two tally-server replicas agree with the recount", { timeout: 55_000 }, async () => {
    await withCluster(async (cl) => {
      await cl.startAuth();
      const voteA = await cl.startVote("vote-a");
      const voteB = await cl.startVote("vote-b");
      const tallyA = await cl.startTally("tally-a", voteA);
      const tallyB = await cl.startTally("tally-b", voteB);
      const candidates = await cl.registerCandidates(3);
      const [voters, warmers] = await Promise.all([cl.registerVoters(100), cl.registerVoters(6)]);
      const viaA = cl.client({ vote: voteA.addr });
      const viaB = cl.client({ vote: voteB.addr });
      const cast = (via: VotingClient, token: string, choice: number, key: Buffer) =>
        via.votes.castVote({ electionId: cl.electionId, ballot: { choices: [choice] }, idempotencyKey: key }, { token, deadlineMs: 15_000 });
      // Warm both replicas up (connections, signing keys, candidate checks) so that neither starts the race behind.
      const warm = await Promise.all(warmers.map((w, i) => cast(i % 2 === 0 ? viaA : viaB, w.token, candidates[i % 3], newIdempotencyKey())));
      const accepted: { receipt: Receipt; choice: number }[] = warm.map((r, i) => ({ receipt: r.receipt!, choice: candidates[i % 3] }));
      // Each call of a pair after its own random delay of 0-25 ms, so that the replicas' group
      // commits interleave and either replica can come first for a voter.
      const jitter = <T,>(call: () => Promise<T>) => sleep(Math.floor(Math.random() * 26)).then(call);
      const both = <T,>(a: () => Promise<T>, b: () => Promise<T>): Promise<PromiseSettledResult<T>[]> => Promise.allSettled([jitter(a), jitter(b)]);

      // Voters 0..49: a different ballot through each replica. Voters 50..99: one ballot, one key, through both.
      const differing = voters.slice(0, 50);
      const retried = voters.slice(50);
      const [differingOutcomes, retriedOutcomes] = await Promise.all([
        Promise.all(
          differing.map((v, i) =>
            both(
              () => cast(viaA, v.token, candidates[i % 3], newIdempotencyKey()),
              () => cast(viaB, v.token, candidates[(i + 1) % 3], newIdempotencyKey()),
            ),
          ),
        ),
        Promise.all(
          retried.map((v, i) => {
            const key = newIdempotencyKey();
            return both(
              () => cast(viaA, v.token, candidates[i % 3], key),
              () => cast(viaB, v.token, candidates[i % 3], key),
            );
          }),
        ),
      ]);

      const wins = { a: 0, b: 0 };
      differingOutcomes.forEach((pair, i) => {
        const ok = pair.filter((s) => s.status === "fulfilled");
        const refused = pair.filter((s) => s.status === "rejected");
        expect(ok, `voter ${i}: exactly one of two different ballots accepted`).toHaveLength(1);
        expect(codeOf((refused[0] as PromiseRejectedResult).reason), `voter ${i}: the other refused`).toBe("ALREADY_EXISTS");
        const winner = pair[0].status === "fulfilled" ? 0 : 1;
        wins[winner === 0 ? "a" : "b"]++;
        accepted.push({ receipt: (ok[0] as PromiseFulfilledResult<voteV1.CastVoteResponse>).value.receipt!, choice: candidates[(i + winner) % 3] });
      });
      retriedOutcomes.forEach((pair, i) => {
        expect(
          pair.map((s) => (s.status === "fulfilled" ? "ok" : codeOf(s.reason))),
          `voter ${50 + i}: the same ballot and key through both replicas`,
        ).toEqual(["ok", "ok"]);
        const [ra, rb] = pair.map((s) => (s as PromiseFulfilledResult<voteV1.CastVoteResponse>).value.receipt!);
        expect(rb, `voter ${50 + i}: both replicas return the same receipt`).toEqual(ra);
        accepted.push({ receipt: ra, choice: candidates[i % 3] });
      });
      console.log(`replica race: differing ballots won by vote-a ${wins.a}, vote-b ${wins.b}`);

      // Both replicas serve the same intact log: one entry per voter, each receipt with its ballot.
      const election = await cl.election(voteA);
      const entries = await cl.readLog(voteA);
      expect(await cl.readLog(voteB)).toEqual(entries);
      expect(await cl.election(voteB)).toEqual(election);
      expectIntactLog(entries, election);
      expect(entries.length).toBe(106);
      for (const { receipt, choice } of accepted) {
        const e = entries[receipt.seq - 1];
        expect({ hash: e.hash, trackingCode: e.trackingCode, choices: e.choices }).toEqual({ hash: receipt.ballotHash, trackingCode: receipt.trackingCode, choices: [choice] });
      }
      expect(new Set(accepted.map((a) => a.receipt.seq)).size).toBe(106);
      const [{ n: participations }] = await cl.query<{ n: number }>("SELECT COUNT(*) AS n FROM participations WHERE election_id = ?", [cl.electionId]);
      expect(Number(participations)).toBe(106);

      // Two tally-server replicas on the one database, each following its own vote-server, agree with the recount.
      const expected = sorted(recount(entries));
      const [ra, rb] = await Promise.all([cl.resultAt(tallyA, entries.length), cl.resultAt(tallyB, entries.length)]);
      for (const r of [ra, rb]) {
        expect(sorted(counted(r))).toEqual(expected);
        expect(r.totalBallots).toBe(entries.length);
        expect(r.logHeadHash).toBe(election.logHeadHash);
      }
      const [{ n }] = await cl.query<{ n: number }>("SELECT SUM(n_ballots) AS n FROM tally_ballots WHERE election_id = ?", [cl.electionId]);
      expect(Number(n)).toBe(entries.length);
    });
  });
});
