// The figures of `npm run bench`, each beside its target (issue 9), as one compact table.
import { histogramQuantile, metric, round } from "./lib.mjs";

const CAST_OK = { grpc_service: "voting.vote.v1.VoteService", grpc_method: "CastVote", grpc_code: "OK" };
const delta = (m, server, name, labels) => metric(m.after[server], name, labels) - metric(m.before[server], name, labels);

/** The figures of one store's run (all CPU in ms per call). */
export function figures(r) {
  const m = r.main;
  const n = m.votes.ok;
  const ms = (seconds, calls = n) => (seconds * 1000) / calls;
  const server = (m.cpu.auth ?? 0) + (m.cpu.vote ?? 0) + (m.cpu.tally ?? 0) + (m.cpu.mariadb ?? 0);
  const echoCpu = ms(r.echo.cpu.echo, r.echo.ok);
  const commits = delta(m.metrics, "vote", "vote_commit_batch_size_count");
  const applies = delta(m.metrics, "tally", "tally_apply_seconds_count");
  const f = {
    ballots: n,
    failed: m.votes.calls - n,
    votesPerSecond: m.votes.perSecond,
    echoPerSecond: r.echo.perSecond,
    castOverEcho: m.votes.perSecond / r.echo.perSecond,
    rawInsertsPerSecond: r.raw?.perSecond,
    castOverRawInsert: r.raw ? m.votes.perSecond / r.raw.perSecond : undefined,
    p50: m.votes.p50,
    p99: m.votes.p99,
    echoP99: r.echo.p99,
    cpu: { auth: ms(m.cpu.auth), vote: ms(m.cpu.vote), voteMain: ms(m.cpu.voteMain), voteWriter: m.cpu.voteWriter === undefined ? undefined : ms(m.cpu.voteWriter), tally: ms(m.cpu.tally), mariadb: m.cpu.mariadb === undefined ? undefined : ms(m.cpu.mariadb) },
    serverCpuPerVote: ms(server),
    echoCpuPerCall: echoCpu,
    cpuOverEcho: ms(server) / echoCpu,
    loadgenCpuPerVote: m.votes.cpuMs / m.votes.calls,
    loadgenCpuPerEcho: r.echo.cpuMs / r.echo.calls,
    // Share of a core each load-generator process was busy: near 1, the generator is the limit.
    loadgenBusy: m.votes.cpuMs / 1000 / (m.votes.seconds * r.procs),
    loadgenBusyEcho: r.echo.cpuMs / 1000 / (r.echo.seconds * r.procs),
    rawInsertCpu: r.raw ? { client: ms(r.raw.cpu.raw, r.raw.count), mariadb: r.raw.cpu.mariadb === undefined ? undefined : ms(r.raw.cpu.mariadb, r.raw.count) } : undefined,
    lag: m.lag,
    commits,
    ballotsPerCommit: delta(m.metrics, "vote", "vote_commit_batch_size_sum") / commits,
    appended: delta(m.metrics, "vote", "vote_ballots_appended_total"),
    serverCastMean: ms(delta(m.metrics, "vote", "grpc_server_handling_seconds_sum", CAST_OK), delta(m.metrics, "vote", "grpc_server_handling_seconds_count", CAST_OK)),
    serverCastP99: 1000 * histogramQuantile(m.metrics.before.vote, m.metrics.after.vote, "grpc_server_handling_seconds", CAST_OK, 0.99),
    tallyApplies: applies,
    ballotsPerApply: delta(m.metrics, "tally", "tally_ballots_counted_total") / applies,
    applyMean: ms(delta(m.metrics, "tally", "tally_apply_seconds_sum"), applies),
  };
  if (r.getResults) {
    const [gr] = r.getResults.extras;
    f.getResults = { underLoad: gr.perSecond, p99: gr.p99, votesPerSecond: r.getResults.votes.perSecond, alone: r.getResultsAlone.perSecond, tallyCpuAlone: ms(r.getResultsAlone.cpu.tally, r.getResultsAlone.ok) };
  }
  if (r.h2load && !r.h2load.missing) {
    const { getResults: g, echo: e } = r.h2load;
    const per = (x, ms) => ms / x.requests;
    f.h2load = {
      perSecond: g.perSecond,
      tallyCpu: per(g, g.serverCpuMs),
      loadgenCpu: per(g, g.cpuMs),
      notOk: g.requests - g.okCounted,
      echoPerSecond: e.perSecond,
      echoCpu: per(e, e.serverCpuMs),
      echoLoadgenCpu: per(e, e.cpuMs),
      echoNotOk: e.requests - e.okCounted,
      cpuOverEcho: per(g, g.serverCpuMs) / per(e, e.serverCpuMs),
      responseBytes: r.h2load.responseBytes,
    };
  } else if (r.h2load) f.h2load = { missing: true };
  if (r.storm) {
    const [logins] = r.storm.with.extras;
    f.storm = { p99Without: r.storm.without.votes.p99, p99With: r.storm.with.votes.p99, ratio: r.storm.with.votes.p99 / r.storm.without.votes.p99, loginsPerSecond: logins.perSecond, loginP99: logins.p99, loginFailed: logins.calls - logins.ok, votesPerSecondWith: r.storm.with.votes.perSecond, votesPerSecondWithout: r.storm.without.votes.perSecond };
  }
  if (r.streams) {
    const s = r.streams;
    f.streams = { streams: s.streams, before: s.before.votes.perSecond, with: s.with.votes.perSecond, after: s.after.votes.perSecond, ratio: s.ratio, p99With: s.with.votes.p99, lagP99With: s.with.lag.p99, followers: s.followers };
  }
  return f;
}

const fmt = (x, d = 2) => (x === undefined ? "–" : typeof x === "number" ? String(round(x, d)) : String(x));

/** Prints the table: one row per figure, one column per store, and the target. */
export function printSummary(all, opts) {
  const rows = [
    ["ballots in the main round (failed)", (f) => `${f.ballots} (${f.failed})`, `≥ 20,000`],
    ["CastVote votes/s", (f) => fmt(f.votesPerSecond, 0)],
    ["echo calls/s (same load generator)", (f) => fmt(f.echoPerSecond, 0)],
    ["**CastVote / echo**", (f) => fmt(f.castOverEcho), "≥ 0.6"],
    ["raw durable inserts/s", (f) => fmt(f.rawInsertsPerSecond, 0)],
    ["CastVote / raw insert", (f) => fmt(f.castOverRawInsert)],
    ["CastVote p50 / **p99** ms", (f) => `${fmt(f.p50, 1)} / ${fmt(f.p99, 1)}`, `p99 ≤ 100`],
    ["echo p99 ms", (f) => fmt(f.echoP99, 1)],
    ["CPU ms/vote: auth / vote / tally / mariadbd", (f) => [f.cpu.auth, f.cpu.vote, f.cpu.tally, f.cpu.mariadb].map((x) => fmt(x, 3)).join(" / ")],
    ["vote-server CPU ms/vote: main thread / writer thread / the others / all", (f) => [f.cpu.voteMain, f.cpu.voteWriter, f.cpu.voteWriter === undefined ? undefined : f.cpu.vote - f.cpu.voteMain - f.cpu.voteWriter, f.cpu.vote].map((x) => fmt(x, 3)).join(" / ")],
    ["CPU ms/vote, all servers", (f) => fmt(f.serverCpuPerVote, 3)],
    ["echo server CPU ms/call", (f) => fmt(f.echoCpuPerCall, 3)],
    ["**server CPU per vote / echo CPU per call**", (f) => fmt(f.cpuOverEcho), "≤ 2.5"],
    ["load generator CPU ms/call: CastVote / echo", (f) => `${fmt(f.loadgenCpuPerVote, 3)} / ${fmt(f.loadgenCpuPerEcho, 3)}`],
    ["load generator busy, share of a core per process: CastVote / echo", (f) => `${fmt(f.loadgenBusy)} / ${fmt(f.loadgenBusyEcho)}`, "well below 1"],
    ["raw insert CPU ms/insert: client / mariadbd", (f) => (f.rawInsertCpu ? `${fmt(f.rawInsertCpu.client, 3)} / ${fmt(f.rawInsertCpu.mariadb, 3)}` : "–")],
    ["**tally lag during load** p50 / p99 ms", (f) => `${fmt(f.lag.p50, 0)} / ${fmt(f.lag.p99, 0)}`, "p99 ≤ 250"],
    ["tally updates seen; lag after last ack ms", (f) => `${f.lag.updates}; ${fmt(f.lag.afterLastAck, 0)}`],
    ["commits; ballots per commit", (f) => `${f.commits}; ${fmt(f.ballotsPerCommit, 1)}`],
    ["CastVote server time mean / p99 bucket ms", (f) => `${fmt(f.serverCastMean, 1)} / ≤${fmt(f.serverCastP99, 1)}`],
    ["tally applies; ballots per apply; ms per apply", (f) => `${f.tallyApplies}; ${fmt(f.ballotsPerApply, 1)}; ${fmt(f.applyMean, 2)}`],
    ["**GetResults/s under load** (votes/s beside it)", (f) => (f.getResults ? `${fmt(f.getResults.underLoad, 0)} (${fmt(f.getResults.votesPerSecond, 0)})` : "–"), "≥ 10,000"],
    ["GetResults/s alone; tally CPU ms/call", (f) => (f.getResults ? `${fmt(f.getResults.alone, 0)}; ${fmt(f.getResults.tallyCpuAlone, 3)}` : "–")],
    ["**GetResults/s alone, h2load** (calls not OK); echo via h2load", (f) => (f.h2load?.missing ? "no h2load" : f.h2load ? `${fmt(f.h2load.perSecond, 0)} (${f.h2load.notOk}); ${fmt(f.h2load.echoPerSecond, 0)} (${f.h2load.echoNotOk})` : "–"), "≥ 10,000"],
    ["h2load: server CPU ms/call, GetResults / echo; ratio", (f) => (f.h2load && !f.h2load.missing ? `${fmt(f.h2load.tallyCpu, 3)} / ${fmt(f.h2load.echoCpu, 3)}; ${fmt(f.h2load.cpuOverEcho)}` : "–")],
    ["h2load CPU ms/call: GetResults / echo; response bytes", (f) => (f.h2load && !f.h2load.missing ? `${fmt(f.h2load.loadgenCpu, 3)} / ${fmt(f.h2load.echoLoadgenCpu, 3)}; ${f.h2load.responseBytes}` : "–")],
    ["vote p99 ms without / with login storm", (f) => (f.storm ? `${fmt(f.storm.p99Without, 1)} / ${fmt(f.storm.p99With, 1)}` : "–")],
    ["**login storm p99 ratio**", (f) => (f.storm ? fmt(f.storm.ratio) : "–"), "≤ 1.5"],
    ["storm: logins/s (failed); votes/s without / with", (f) => (f.storm ? `${fmt(f.storm.loginsPerSecond, 1)} (${f.storm.loginFailed}); ${fmt(f.storm.votesPerSecondWithout, 0)} / ${fmt(f.storm.votesPerSecondWith, 0)}` : "–")],
    ["votes/s before / with / after follow streams", (f) => (f.streams ? `${fmt(f.streams.before, 0)} / ${fmt(f.streams.with, 0)} / ${fmt(f.streams.after, 0)}` : "–")],
    ["follow streams: ratio; p99 ms; tally lag p99 ms", (f) => (f.streams ? `${fmt(f.streams.ratio)}; ${fmt(f.streams.p99With, 1)}; ${fmt(f.streams.lagP99With, 0)}` : "–")],
  ];
  console.log(`\n${opts.describe}\n`);
  console.log(`| figure | ${all.map((x) => x.store).join(" | ")} | target |`);
  console.log(`|---|${all.map(() => "---|").join("")}---|`);
  for (const [label, value, target] of rows) console.log(`| ${label} | ${all.map((x) => value(x.figures)).join(" | ")} | ${target ?? ""} |`);
}
