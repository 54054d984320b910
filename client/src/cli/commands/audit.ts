import type { CommandBody } from "./index.js";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import cliProgress from "cli-progress";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { ballotGroupOf, choicesKey, MemoryTree, openCheckpoint, tabulate, verifierFromKey, type Method, type TallyResult } from "@voting/election-core";
import { isServiceError, Status, voteV1, type logV1, type tallyV1, type VotingClient } from "@voting/api";
import { CheckpointStore, originDirName } from "../checkpoint-store.js";
import { failWithEvidence, trustCheckpoint } from "../log-trust.js";
import { rootText, SplitViewError, type VerifiedCheckpoint } from "../tlog-check.js";
import { WitnessDir } from "../witness-core.js";
import { newClient, print, RefusedError, type GlobalArgs } from "../context.js";
import { terminalSafe } from "../format.js";
import { methodName } from "../election-view.js";
import { choicesOfVarints, logFormatOf, readLog } from "../log-reader.js";
import { ByteMultiset } from "../byte-multiset.js";

/** Ballots counted by the bytes of their choices, merged by choicesKey. */
function byChoices(multiset: ByteMultiset): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of multiset.entries()) {
    const key = choicesKey(choicesOfVarints(k));
    out.set(key, (out.get(key) ?? 0) + n);
  }
  return out;
}

interface Args extends GlobalArgs {
  election: number;
  out?: string;
  witnessKey?: string[];
  minCosignatures?: number;
  witnessDir?: string[];
  witnessUrl?: string[];
  logKey?: string;
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

export const audit: CommandBody<Args> = {
  builder: (y) =>
    y
      .option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" })
      .option("out", { type: "string", describe: "Also write the log to this file, one JSON entry per line" })
      .option("witness-key", { type: "string", array: true, default: [], describe: "A witness's verifier key (repeatable); its cosignatures of the final checkpoint count" })
      .option("min-cosignatures", { type: "number", describe: "Cosignatures by distinct given witnesses the final checkpoint needs (default: 1 with --witness-key, else 0)" })
      .option("witness-dir", { type: "string", array: true, default: [], describe: "A witness directory to collect cosigned checkpoints from (repeatable)" })
      .option("witness-url", { type: "string", array: true, default: [], describe: "A `voting witness serve` URL to collect cosigned checkpoints from (repeatable)" })
      .option("log-key", { type: "string", describe: "The log's verifier key for this election (default: pinned on first use)" }),
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
      const multiset = new ByteMultiset();
      let hashAtCounted = published.countedThroughSeq === 0 ? e.logGenesisHash : "";
      const tree = logFormatOf(e) === 2 ? new MemoryTree() : undefined;
      // The checkpoint before the log: the log downloaded after it covers at least its entries.
      const served = tree ? await latestCheckpoint(args, client, e) : undefined;
      const log = await readLog(client, e, async (batch) => {
        tree?.appendLeafHashes(batch.leaves!);
        const counted = Math.min(batch.length, published.countedThroughSeq - batch.firstSeq + 1);
        if (counted > 0) batch.countChoices(multiset, counted);
        if (counted > 0 && batch.firstSeq + counted - 1 === published.countedThroughSeq) hashAtCounted = batch.hash(counted - 1);
        bar?.update(batch.firstSeq + batch.length - 1);
        if (out && !out.write(batch.jsonLines())) await once(out, "drain");
      });
      bar?.update(log.headSeq);
      bar?.stop();
      if (log.problem) throw new RefusedError(`ballot log of election ${e.id} fails at seq ${log.problem.seq}: ${log.problem.reason}`);
      if (log.sealed) throw new RefusedError(`the ballot log of election ${e.id} is sealed until it closes`);
      if (!tree && ((args.witnessKey ?? []).length > 0 || (args.minCosignatures ?? 0) > 0)) throw new RefusedError(`election ${e.id} has a log format 1 ballot log: it has no checkpoints for witnesses to cosign`);
      const resultChecks = async () => {
        if (log.headSeq < e.ballotCount) throw new RefusedError(`ballot log of election ${e.id} fails at seq ${log.headSeq + 1}: the log ends at ${log.headSeq} but ${e.ballotCount} ballots were published`);
        if (e.turnout !== e.ballotCount) {
          throw new RefusedError(`election ${e.id}: ${e.turnout} voters are recorded as having voted but the log holds ${e.ballotCount} ballots (first unmatched seq ${Math.min(e.turnout, e.ballotCount) + 1})`);
        }
        if (published.countedThroughSeq > log.headSeq) throw new RefusedError(`the published result counts ${published.countedThroughSeq} ballots but the log holds ${log.headSeq}`);
        if (published.logHeadHash !== hashAtCounted) {
          throw new RefusedError(`the published result's log head at seq ${published.countedThroughSeq} is ${published.logHeadHash}, the log's is ${hashAtCounted}`);
        }
        const recount = tabulate(e.candidates, [...byChoices(multiset)].map(([k, n]) => ballotGroupOf(method, k, n)), { method, seats: e.seats, tieBreakSeed: hashAtCounted });
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
        return { recount, statement };
      };
      // The result's checks and the transparency log's are independent: when both fail, both
      // are reported, the log's evidence last (it prints the two signed checkpoints).
      let checked: Awaited<ReturnType<typeof resultChecks>> | undefined;
      let problem: RefusedError | undefined;
      try {
        checked = await resultChecks();
      } catch (err) {
        if (!(err instanceof RefusedError)) throw err;
        problem = err;
      }
      let tlog: Awaited<ReturnType<typeof checkTransparencyLog>> | undefined;
      try {
        tlog = tree && served ? await checkTransparencyLog(args, e, tree, served) : undefined;
      } catch (err) {
        if (problem) process.stderr.write(terminalSafe(`voting: ${problem.message}\n`));
        throw err;
      }
      if (problem || !checked) throw problem;
      const { recount, statement } = checked;
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
        checkpoint: tlog,
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
          tlog
            ? `signed checkpoint of ${tlog.origin} (size ${tlog.size}) has the root recomputed from the log; ${tlog.keptChecked} kept checkpoint${tlog.keptChecked === 1 ? "" : "s"} agree with the log` +
              (tlog.required > 0 || tlog.cosignedBy.length > 0 ? `; cosigned by ${tlog.cosignedBy.length} of the given witnesses (${tlog.required} required)${tlog.cosignedBy.length ? `: ${tlog.cosignedBy.join(", ")}` : ""}` : "")
            : "",
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

/** Cosigned checkpoints of `origin` from witness directories and `voting witness serve` URLs. */
async function collectWitnessNotes(args: Args, origin: string): Promise<{ from: string; note: string }[]> {
  const out: { from: string; note: string }[] = [];
  for (const d of args.witnessDir ?? []) {
    const dir = new WitnessDir(d);
    const latest = await dir.latest(origin);
    if (latest) out.push({ from: d, note: latest });
    for (const note of await dir.cosignedNotes(originDirName(origin))) out.push({ from: d, note });
  }
  for (const u of args.witnessUrl ?? []) {
    const url = `${u.replace(/\/+$/, "")}/${originDirName(origin)}/checkpoint`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      throw new RefusedError(`cannot fetch ${url}: ${err.message}`);
    });
    if (res.status === 404) continue;
    if (!res.ok) throw new RefusedError(`cannot fetch ${url}: HTTP ${res.status}`);
    out.push({ from: url, note: await res.text() });
  }
  return out;
}

/** The latest signed checkpoint; none from a vote-server that predates the transparency log. */
async function latestCheckpoint(args: Args, client: VotingClient, e: voteV1.Election): Promise<logV1.GetCheckpointResponse | undefined> {
  const wanted = (args.witnessKey ?? []).length > 0 || (args.minCosignatures ?? 0) > 0 || (args.witnessDir ?? []).length > 0 || (args.witnessUrl ?? []).length > 0;
  let served: logV1.GetCheckpointResponse;
  try {
    served = await client.log.getCheckpoint({ electionId: e.id });
  } catch (err) {
    // A vote-server from before the transparency log: nothing to check unless witnesses were asked for.
    if (!wanted && isServiceError(err) && err.code === Status.UNIMPLEMENTED) return undefined;
    throw err;
  }
  return served;
}

/**
 * The transparency log against the whole log just downloaded: the latest signed checkpoint's
 * root must be the recomputed root; every checkpoint kept (by this CLI or by the witnesses)
 * must be the root of the log's prefix of its size; and the final checkpoint must carry
 * cosignatures by enough of the given witnesses.
 */
async function checkTransparencyLog(args: Args, e: voteV1.Election, tree: MemoryTree, served: logV1.GetCheckpointResponse) {
  const store = new CheckpointStore();
  const latest = await trustCheckpoint(store, { note: served.checkpoint?.note ?? "", logKey: served.verifierKey || undefined }, e.id, args.logKey);
  const { origin, size, rootHash } = latest.checkpoint;
  const closed = e.state === voteV1.ElectionState.ELECTION_STATE_CLOSED;
  if (size > tree.size) throw new RefusedError(`the signed checkpoint of ${origin} covers ${size} entries but the log holds ${tree.size}`);
  if (!tree.root(size).equals(rootHash)) {
    throw new RefusedError(`the signed checkpoint of ${origin} (size ${size}) has root ${rootText(latest.checkpoint)}, but the log's entries give ${tree.root(size).toString("base64")}`);
  }
  if (closed && size !== tree.size) throw new RefusedError(`the final checkpoint of ${origin} covers ${size} entries but the closed log holds ${tree.size}`);
  const logKey = (await store.pinnedKey(origin))!;
  const witnesses = (args.witnessKey ?? []).map((k) => {
    try {
      return verifierFromKey(k);
    } catch (err) {
      throw new RefusedError(`bad --witness-key ${k}: ${(err as Error).message}`);
    }
  });
  // Every other signed checkpoint we hold must describe a prefix of this log.
  const kept = [...(await store.list(origin)).map((k) => ({ from: "kept by this CLI", note: k.note })), ...(await collectWitnessNotes(args, origin))];
  const cosignedBy = new Set<string>();
  const countCosignatures = (note: string) => {
    const opened = openCheckpoint(note, { log: verifierFromKey(logKey), witnesses, origin });
    if (opened.text !== latest.note.slice(0, opened.text.length) || opened.checkpoint.size !== size || !opened.checkpoint.rootHash.equals(rootHash)) return;
    for (const c of opened.cosignatures) cosignedBy.add(`${c.name}+${c.keyId.toString(16).padStart(8, "0")}`);
  };
  countCosignatures(latest.note);
  for (const k of kept) {
    let other: VerifiedCheckpoint;
    try {
      const opened = openCheckpoint(k.note, { log: verifierFromKey(logKey), witnesses, origin });
      other = { checkpoint: opened.checkpoint, note: k.note };
    } catch (err) {
      throw new RefusedError(`a checkpoint from ${k.from} does not verify: ${(err as Error).message}`);
    }
    const c = other.checkpoint;
    const agrees = c.size <= tree.size && tree.root(c.size).equals(c.rootHash) && (c.size <= size || !closed);
    if (!agrees) {
      failWithEvidence(
        args,
        new SplitViewError(
          c.size > size
            ? `a checkpoint of ${origin} ${k.from} covers ${c.size} entries, more than the final checkpoint (${size}): the log was truncated`
            : `a checkpoint of ${origin} ${k.from} (size ${c.size}) is not a prefix of the log the final checkpoint signs: the log was rewritten`,
          k.note,
          latest.note,
        ),
        { electionId: e.id },
      );
    }
    countCosignatures(k.note);
  }
  const required = args.minCosignatures ?? (witnesses.length > 0 ? 1 : 0);
  if (cosignedBy.size < required) {
    throw new RefusedError(`the ${closed ? "final" : "latest"} checkpoint of ${origin} (size ${size}) has ${cosignedBy.size} valid cosignature${cosignedBy.size === 1 ? "" : "s"} by the given witnesses, ${required} required`);
  }
  await store.save(origin, { size, root: rootText(latest.checkpoint), note: latest.note }, "audit", true);
  return { origin, size, root: rootText(latest.checkpoint), keptChecked: kept.length, cosignedBy: [...cosignedBy], required, note: latest.note };
}
