import type { CommandModule } from "yargs";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import cliProgress from "cli-progress";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { ballotGroupOf, choicesKey, tabulate, type Method, type TallyResult } from "@voting/election-core";
import type { tallyV1 } from "@voting/api";
import { newClient, print, RefusedError, type GlobalArgs } from "../context.js";
import { methodName } from "../election-view.js";
import { logFormatOf, readLog, type CheckedEntry } from "../log-reader.js";

/** One `--out` line: format 2 entries carry their commitment and its opening. */
const outLine = (format: 1 | 2, e: CheckedEntry) =>
  JSON.stringify(
    format === 2
      ? { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.choices, salt: e.salt, hash: e.hash }
      : { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, choices: e.choices, hash: e.hash },
  );

interface Args extends GlobalArgs {
  election: number;
  out?: string;
}

/** The first way in which the published result differs from our recount, if any. */
function difference(published: tallyV1.ElectionResult, recount: TallyResult): string | undefined {
  if (published.winners.join(",") !== recount.winners.join(",")) return `winners: published ${published.winners.join(",")}, recount ${recount.winners.join(",")}`;
  for (const c of recount.candidates) {
    const p = published.candidates.find((x) => x.candidateId === c.id);
    if (p?.votes !== c.votes) return `votes of candidate ${c.id}: published ${p?.votes}, recount ${c.votes}`;
  }
  if (published.rounds.length !== recount.rounds.length) return `rounds: published ${published.rounds.length}, recount ${recount.rounds.length}`;
  for (const [i, r] of recount.rounds.entries()) {
    const p = published.rounds[i];
    if (p.exhausted !== r.exhausted) return `round ${i + 1} exhausted: published ${p.exhausted}, recount ${r.exhausted}`;
    for (const c of r.counts) {
      const v = p.counts.find((x) => x.candidateId === c.candidateId)?.votes;
      if (v !== c.votes) return `round ${i + 1}, candidate ${c.candidateId}: published ${v}, recount ${c.votes}`;
    }
  }
  return undefined;
}

export const audit: CommandModule<GlobalArgs, Args> = {
  command: "audit",
  describe: "Download an election's whole ballot log, verify every link, recount it, and compare with the published result",
  builder: (y) =>
    y
      .option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" })
      .option("out", { type: "string", describe: "Also write the log to this file, one JSON entry per line" }),
  async handler(args) {
    const client = newClient();
    let out: WriteStream | undefined;
    const bar = process.stderr.isTTY && !args.json ? new cliProgress.SingleBar({ format: "ballot log |{bar}| {value}/{total} entries", stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    try {
      const { election } = await client.elections.getElection({ electionId: args.election });
      const e = election!;
      const method = methodName(e.method) as Method;
      const published = (await client.tally.getResults({ electionId: e.id }, { deadlineMs: 120_000 })).result!;
      if (published.embargoed) throw new RefusedError(`election ${e.id} hides its results and ballots until it closes; audit it after the close`);
      out = args.out ? createWriteStream(args.out) : undefined;
      bar?.start(e.ballotCount, 0);
      // The multiset up to the seq the published result counted, and the chain hash there.
      const counted = new Map<string, number>();
      let hashAtCounted = published.countedThroughSeq === 0 ? e.logGenesisHash : "";
      const log = await readLog(client, e, async (entry) => {
        if (out && !out.write(`${outLine(logFormatOf(e), entry)}\n`)) await once(out, "drain");
        if (entry.seq <= published.countedThroughSeq) {
          const key = choicesKey(entry.choices ?? []);
          counted.set(key, (counted.get(key) ?? 0) + 1);
          if (entry.seq === published.countedThroughSeq) hashAtCounted = entry.hash;
        }
        if (entry.seq % 1000 === 0) bar?.update(entry.seq);
      });
      bar?.update(log.headSeq);
      bar?.stop();
      if (log.problem) throw new RefusedError(`ballot log of election ${e.id} fails at seq ${log.problem.seq}: ${log.problem.reason}`);
      if (log.sealed) throw new RefusedError(`the ballot log of election ${e.id} is sealed until it closes`);
      if (log.headSeq < e.ballotCount) throw new RefusedError(`ballot log of election ${e.id} fails at seq ${log.headSeq + 1}: the log ends at ${log.headSeq} but ${e.ballotCount} ballots were published`);
      if (e.turnout !== e.ballotCount) {
        throw new RefusedError(`election ${e.id}: ${e.turnout} voters are recorded as having voted but the log holds ${e.ballotCount} ballots (first unmatched seq ${Math.min(e.turnout, e.ballotCount) + 1})`);
      }
      if (published.countedThroughSeq > log.headSeq) throw new RefusedError(`the published result counts ${published.countedThroughSeq} ballots but the log holds ${log.headSeq}`);
      if (published.logHeadHash !== hashAtCounted) {
        throw new RefusedError(`the published result's log head at seq ${published.countedThroughSeq} is ${published.logHeadHash}, the log's is ${hashAtCounted}`);
      }
      const recount = tabulate(e.candidates, [...counted].map(([k, n]) => ballotGroupOf(method, k, n)), { method, seats: e.seats, tieBreakSeed: hashAtCounted });
      const diff = difference(published, recount);
      if (diff) throw new RefusedError(`the published result of election ${e.id} differs from the recount of the log: ${diff}`);
      let statement: string | undefined;
      if (published.final) {
        const { keys } = await client.tally.getJwks();
        const { payload } = await jwtVerify(published.statement, createLocalJWKSet({ keys } as JSONWebKeySet), { algorithms: ["EdDSA"], typ: "voting-result+jwt", issuer: "voting-tally" }).catch(
          (err: Error) => {
            throw new RefusedError(`the signature of the final result statement of election ${e.id} does not verify: ${err.message}`);
          },
        );
        if (payload.log_head_hash !== hashAtCounted || payload.ballot_count !== published.countedThroughSeq || JSON.stringify(payload.winners) !== JSON.stringify(recount.winners)) {
          throw new RefusedError(`the signed final statement of election ${e.id} does not match the recount of the log`);
        }
        statement = "signature valid, matches the recount";
      }
      const report = {
        electionId: e.id,
        method,
        logFormat: logFormatOf(e),
        ballots: log.headSeq,
        turnout: e.turnout,
        headHash: log.headHash,
        countedThroughSeq: published.countedThroughSeq,
        winners: recount.winners,
        final: published.final,
        statement,
        ok: true,
      };
      print(
        args,
        report,
        [
          `election ${e.id} (${method}): ${log.headSeq} ballots, hash chain intact to ${log.headHash}` +
            (logFormatOf(e) === 2 ? ", every ballot opens its commitment" : " (log format 1)"),
          `turnout ${e.turnout} equals the log's length when it was published`,
          `recount of seq 1..${published.countedThroughSeq} equals the published result (winners ${recount.winners.join(", ") || "none"})`,
          published.final ? `final result statement: ${statement}` : "the election is not closed yet: the result is not final",
          args.out ? `log written to ${args.out}` : "",
        ]
          .filter(Boolean)
          .join("\n"),
      );
    } finally {
      bar?.stop();
      if (out) {
        out.end();
        await once(out, "close");
      }
      client.close();
    }
  },
};
