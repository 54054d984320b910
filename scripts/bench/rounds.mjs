// Rounds of `npm run bench`: votes cast by the load generators while the tally is watched,
// the servers' CPU counted and their /metrics read; and the limits beside them (echo, raw inserts).
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { child, cpuMeter, metric, pct, scrape, sleep, startLoad, threadNamed } from "./lib.mjs";
import { grpcFrame, grpcOnce, h2load, h2loadBinary } from "./h2load.mjs";

const { voteV1, tallyV1, authV1 } = await import("@voting/client");
const CAST = "/voting.vote.v1.VoteService/CastVote";
export const CANDIDATES = ["A", "B", "C", "D", "E"];

/** A new open plurality election with results while open; its id and candidate ids. */
export async function newElection(sys, title) {
  const c = { token: sys.adminToken };
  const { election } = await sys.client.elections.createElection({ title, method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: CANDIDATES, resultsWhileOpen: true }, c);
  await sys.client.elections.openElection({ electionId: election.id }, c);
  return { id: election.id, candidates: election.candidates.map((x) => x.id) };
}

/** CastVote requests, encoded: each voter once in each election, the elections interleaved. */
export function castRequests(tokens, elections) {
  const messages = [];
  const callTokens = [];
  const electionOf = [];
  for (let v = 0; v < tokens.length; v++) {
    for (const e of elections) {
      const choices = [e.candidates[(v + messages.length) % e.candidates.length]];
      messages.push(voteV1.CastVoteRequest.encode({ electionId: e.id, ballot: { choices }, idempotencyKey: randomBytes(16) }).finish());
      callTokens.push(tokens[v]);
      electionOf.push(e.id);
    }
  }
  return { messages, tokens: callTokens, electionOf };
}

/** Follows WatchResults of each election from now on: its updates' arrival times and counts. */
async function watchTally(client, ids) {
  const watches = new Map();
  await Promise.all(
    ids.map(async (id) => {
      const w = { updates: [], base: undefined, call: await client.tally.watchResults({ electionId: id }) };
      w.call.on("error", () => undefined);
      await new Promise((resolve) =>
        w.call.on("data", (m) => {
          const total = Number(m.result.totalBallots);
          if (w.base === undefined) (w.base = total), resolve();
          else w.updates.push([Date.now(), total]);
        }),
      );
      watches.set(id, w);
    }),
  );
  return watches;
}

/**
 * Tally lag per update: its arrival minus the acknowledgement of the ballot that brought the
 * count to its value (the k-th acknowledgement in time for the k-th ballot of the round).
 */
function tallyLag(watches, acks, electionOf) {
  const lags = [];
  let afterLastAck = 0;
  for (const [id, w] of watches) {
    const mine = [];
    for (let i = 0; i < acks.length; i++) if (electionOf[i] === id && !Number.isNaN(acks[i])) mine.push(acks[i]);
    mine.sort((a, b) => a - b);
    for (const [at, total] of w.updates) {
      const k = total - w.base;
      if (k >= 1 && k <= mine.length) lags.push(at - mine[k - 1]);
    }
    const last = w.updates.find(([, total]) => total - w.base >= mine.length);
    afterLastAck = Math.max(afterLastAck, last ? last[0] - mine.at(-1) : NaN);
  }
  lags.sort((a, b) => a - b);
  return { updates: lags.length, p50: pct(lags, 50), p99: pct(lags, 99), max: lags.at(-1), afterLastAck };
}

/**
 * Casts `tokens.length` ballots in each of `elections` from `opts.procs` load generators with
 * `opts.concurrency` calls in flight, while `extra` loads (started, ready) run beside them.
 */
export async function voteRound(sys, tokens, elections, opts, extra = []) {
  const reqs = castRequests(tokens, elections);
  const load = await startLoad({ addr: sys.addrs.vote, path: CAST, messages: reqs.messages, tokens: reqs.tokens, concurrency: opts.concurrency, procs: opts.procs });
  const watches = await watchTally(sys.client, elections.map((e) => e.id));
  const pids = sys.pids();
  // voteMain: vote-server's main thread alone (its event loop); voteWriter: its ballot writer
  // thread (which names itself, and exists once a ballot was cast); beside all its threads.
  const meter = cpuMeter({ ...pids, voteMain: `${pids.vote}/task/${pids.vote}`, voteWriter: threadNamed(pids.vote, "ballot-writer"), mariadb: opts.mariadbPid?.() });
  const before = await scrapeAll(sys);
  meter.start();
  for (const x of extra) x.go();
  load.go();
  const votes = await load.done();
  for (const x of extra) x.stop();
  const extras = await Promise.all(extra.map((x) => x.done()));
  const cpu = meter.stop();
  const after = await scrapeAll(sys);
  // Wait (at most 60 s) until the tally has counted every acknowledged ballot.
  const acked = new Map();
  reqs.electionOf.forEach((id, j) => Number.isNaN(votes.acks[j]) || acked.set(id, (acked.get(id) ?? 0) + 1));
  for (let i = 0; i < 600; i++) {
    const missing = [...watches].some(([id, w]) => (w.updates.at(-1)?.[1] ?? w.base) - w.base < (acked.get(id) ?? 0));
    if (!missing) break;
    await sleep(100);
  }
  for (const w of watches.values()) w.call.cancel();
  return { votes, cpu, metrics: { before, after }, lag: tallyLag(watches, votes.acks, reqs.electionOf), extras, reqs };
}

async function scrapeAll(sys) {
  const p = sys.metricsPorts;
  const [auth, vote, tally] = await Promise.all([scrape(p.auth), scrape(p.vote), scrape(p.tally)]);
  return { auth, vote, tally };
}

/** The same load (requests, tokens, concurrency, processes) against the raw grpc-js echo server. */
export async function echoRound(reqs, responseBytes, opts) {
  const echo = child("echo-server.mjs", [String(responseBytes)]);
  try {
    const addr = `127.0.0.1:${await echo.line()}`;
    const run = async (n) => {
      const load = await startLoad({ addr, path: "/bench.Echo/Echo", messages: reqs.messages.slice(0, n), tokens: reqs.tokens.slice(0, n), concurrency: opts.concurrency, procs: opts.procs });
      const meter = cpuMeter({ echo: echo.proc.pid });
      meter.start();
      load.go();
      const r = await load.done();
      return { ...r, cpu: meter.stop() };
    };
    await run(Math.min(2000, reqs.messages.length)); // warm-up
    return await run(Math.min(reqs.messages.length, opts.echoCalls));
  } finally {
    await echo.stop();
  }
}

/** Durable single-row inserts into the store, `opts.concurrency` in flight. */
export async function rawInsertRound(rawUrl, count, rowBytes, opts) {
  const c = child("raw-insert.mjs", [rawUrl, String(count), String(opts.concurrency), String(rowBytes)]);
  try {
    const ready = await c.line();
    if (ready !== "ready") throw new Error(`raw inserts: ${ready}`);
    const meter = cpuMeter({ raw: c.proc.pid, mariadb: opts.mariadbPid?.() });
    meter.start();
    c.send("go");
    const r = JSON.parse(await c.line(3_600_000));
    return { ...r, perSecond: r.count / r.seconds, cpu: meter.stop() };
  } finally {
    await c.stop();
  }
}

const GET_RESULTS = "/voting.tally.v1.TallyService/GetResults";

/** A load that calls GetResults of an election until stopped. */
export const getResultsLoad = (sys, electionId, concurrency) =>
  startLoad({ addr: sys.addrs.tally, path: GET_RESULTS, messages: [tallyV1.GetResultsRequest.encode({ electionId }).finish()], concurrency, repeat: true });

/** GetResults alone for `seconds`, with tally-server's CPU per call. */
export async function getResultsAlone(sys, electionId, concurrency, seconds) {
  const load = await getResultsLoad(sys, electionId, concurrency);
  const meter = cpuMeter({ tally: sys.pids().tally });
  meter.start();
  load.go();
  await sleep(seconds * 1000);
  load.stop();
  const r = await load.done();
  return { ...r, cpu: meter.stop() };
}

/** A load that logs the given users in, over and over, until stopped. */
export const loginLoad = (sys, users, concurrency) =>
  startLoad({ addr: sys.addrs.auth, path: "/voting.auth.v1.AuthService/Login", messages: users.map((u) => authV1.LoginRequest.encode(u).finish()), concurrency, repeat: true });

/**
 * GetResults alone driven by h2load (one prebuilt anonymous request, `concurrency` in flight
 * over 4 connections), then the echo server (public, answering as many bytes) driven alike:
 * calls/s, each server's CPU and h2load's per call. h2load counts HTTP statuses only, so a
 * call made with node:http2 first checks the gRPC status and the answer, and afterwards each
 * server's own count of OK calls must equal h2load's successes. Undefined without h2load.
 */
export async function h2loadRounds(sys, electionId, calls, concurrency) {
  const binary = h2loadBinary();
  if (!binary) return undefined;
  const frame = grpcFrame(tallyV1.GetResultsRequest.encode({ electionId }).finish());
  const bodyFile = join(mkdtempSync(join(tmpdir(), "voting-bench-h2load-")), "request");
  writeFileSync(bodyFile, frame);
  const clients = Math.min(4, concurrency);
  const run = async (addr, path, pid, n) => {
    const meter = cpuMeter({ server: pid });
    meter.start();
    const r = await h2load({ binary, addr, path, bodyFile, requests: n, clients, streams: Math.ceil(concurrency / clients) });
    return { ...r, serverCpuMs: meter.stop().server * 1000 };
  };
  const checked = async (addr, path) => {
    const c = await grpcOnce(addr, path, frame);
    if (c.httpStatus !== 200 || c.grpcStatus !== 0) throw new Error(`${path} via HTTP/2: HTTP ${c.httpStatus}, grpc-status ${c.grpcStatus}`);
    return c.message;
  };

  const answer = tallyV1.GetResultsResponse.decode(await checked(sys.addrs.tally, GET_RESULTS));
  const typed = await sys.client.tally.getResults({ electionId });
  if (answer.result?.electionId !== electionId || answer.result.totalBallots !== typed.result?.totalBallots) throw new Error("GetResults via HTTP/2 answered another result");
  const responseBytes = tallyV1.GetResultsResponse.encode(answer).finish().length;
  const okCalls = async () => metric(await scrape(sys.metricsPorts.tally), "grpc_server_handled_total", { grpc_method: "GetResults", grpc_code: "OK" });
  await run(sys.addrs.tally, GET_RESULTS, sys.pids().tally, Math.min(calls, 5000)); // warm-up
  const ok0 = await okCalls();
  const getResults = await run(sys.addrs.tally, GET_RESULTS, sys.pids().tally, calls);
  getResults.okCounted = (await okCalls()) - ok0;

  const echo = child("echo-server.mjs", [String(responseBytes), "public"]);
  try {
    const addr = `127.0.0.1:${await echo.line()}`;
    await checked(addr, "/bench.Echo/Echo");
    await run(addr, "/bench.Echo/Echo", echo.proc.pid, Math.min(calls, 5000)); // warm-up
    echo.send("count");
    const ok0 = JSON.parse(await echo.line()).ok;
    const echoRun = await run(addr, "/bench.Echo/Echo", echo.proc.pid, calls);
    echo.send("count");
    echoRun.okCounted = JSON.parse(await echo.line()).ok - ok0;
    return { getResults, echo: echoRun, responseBytes, clients };
  } finally {
    await echo.stop();
  }
}
