import type { CommandModule } from "yargs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { entryBytes, leafHash } from "@voting/election-core";
import { isServiceError, Status, voteV1, type VotingClient } from "@voting/api";
import { newClient, print, RefusedError, type GlobalArgs } from "../context.js";
import { readLog } from "../log-reader.js";
import { configDir } from "../session-store.js";
import { CheckpointStore } from "../checkpoint-store.js";
import { grpcLogSource, receiptBytes } from "../log-source.js";
import { failWithEvidence, trustCheckpoint } from "../log-trust.js";
import { proveAllConsistent, proveIncluded, rootText, SplitViewError, type KeptCheckpoint } from "../tlog-check.js";

interface Args extends GlobalArgs {
  code: string;
  full: boolean;
  logKey?: string;
}

interface SavedReceipt {
  seq: number;
  ballotHash: string;
  checkpoint?: string;
}

/** The receipt saved by `voting vote`, if this machine cast the ballot. */
async function savedReceipt(code: string): Promise<SavedReceipt | undefined> {
  try {
    const lines = (await readFile(join(configDir(), "receipts.jsonl"), "utf8")).trim().split("\n");
    return lines.map((l) => JSON.parse(l)).find((r) => r.trackingCode === code.toUpperCase().replace(/[\s-]/g, ""));
  } catch {
    return undefined;
  }
}

/** The old check: download the whole log and recompute its hash chain. */
async function fullChain(client: VotingClient, election: voteV1.Election, entry: voteV1.BallotLogEntry) {
  let found = false;
  const log = await readLog(client, election, (entries) => {
    for (const e of entries) if (e.seq === entry.seq) found = e.hash === entry.hash && e.trackingCode === entry.trackingCode;
  });
  if (log.problem) throw new RefusedError(`the ballot log of election ${election.id} is broken at seq ${log.problem.seq}: ${log.problem.reason}`);
  if (log.chainChecked && !found) throw new RefusedError(`the log of election ${election.id} does not hold this ballot at seq ${entry.seq}`);
  return log;
}

const hasNoLog = (err: unknown) => isServiceError(err) && (err.code === Status.FAILED_PRECONDITION || err.code === Status.UNIMPLEMENTED);

export const verify: CommandModule<GlobalArgs, Args> = {
  command: "verify <code>",
  describe:
    "Check the ballot with this tracking code with proofs only: the log's latest signed checkpoint, the ballot's inclusion in it, and consistency with every checkpoint kept before",
  builder: (y) =>
    y
      .positional("code", { type: "string", demandOption: true })
      .option("full", { type: "boolean", default: false, describe: "Also download the whole log and recompute its hash chain" })
      .option("log-key", { type: "string", describe: "The log's verifier key for this election (pins it; default: the key pinned on first use)" }),
  async handler(args) {
    const client = newClient();
    const started = performance.now();
    try {
      const receiptRes = await client.votes.getReceipt({ trackingCode: args.code });
      const entry = receiptRes.entry!;
      const electionRes = await client.elections.getElection({ electionId: entry.electionId });
      const { election } = electionRes;
      const saved = await savedReceipt(entry.trackingCode);
      // A sealed format 1 entry comes without its hash (docs/ballot-log.md). Checked after the
      // proofs, so that a rewrite also shows its evidence.
      const receiptMismatch = () => {
        if (saved && (saved.seq !== entry.seq || (entry.hash !== "" && saved.ballotHash !== entry.hash))) {
          throw new RefusedError(`the log has this ballot at seq ${entry.seq} with hash ${entry.hash}, but your receipt says seq ${saved.seq}, hash ${saved.ballotHash}`);
        }
      };
      const source = grpcLogSource(client, election!.id);
      source.count(receiptBytes(receiptRes));
      source.count(voteV1.GetElectionResponse.encode(electionRes).finish().length);
      let served: Awaited<ReturnType<typeof source.checkpoint>>;
      try {
        served = await source.checkpoint();
      } catch (err) {
        if (!hasNoLog(err)) throw err;
        receiptMismatch();
        return legacy(args, client, election!, entry, saved);
      }
      const store = new CheckpointStore();
      const latest = await trustCheckpoint(store, served, election!.id, args.logKey);
      const origin = latest.checkpoint.origin;
      // Every checkpoint kept for this log, and the receipt's own (a receipt from before the store, or another machine's copy).
      const kept: KeptCheckpoint[] = await store.list(origin);
      if (saved?.checkpoint) {
        const r = await trustCheckpoint(store, { note: saved.checkpoint }, election!.id, args.logKey);
        kept.push({ size: r.checkpoint.size, root: rootText(r.checkpoint), note: saved.checkpoint });
      }
      const index = entry.seq - 1;
      const leaf = leafHash(entryBytes(2, { electionId: entry.electionId, seq: entry.seq, trackingCode: entry.trackingCode, commitment: entry.commitment }));
      let consistent: number;
      try {
        consistent = await proveAllConsistent(source, kept, latest);
      } catch (err) {
        if (err instanceof SplitViewError) return failWithEvidence(args, err);
        throw err;
      }
      receiptMismatch();
      const proof = await proveIncluded(source, index, leaf, latest);
      await store.save(origin, { size: latest.checkpoint.size, root: rootText(latest.checkpoint), note: latest.note }, "verify", true);
      const full = args.full ? await fullChain(client, election!, entry) : undefined;
      const ms = performance.now() - started;
      const report = {
        electionId: election!.id,
        trackingCode: entry.trackingCode,
        seq: entry.seq,
        leafIndex: index,
        ballotHash: entry.hash,
        matchesSavedReceipt: saved ? true : undefined,
        origin,
        treeSize: latest.checkpoint.size,
        rootHash: rootText(latest.checkpoint),
        inclusionProofHashes: proof.length,
        checkpointsChecked: consistent,
        bytesDownloaded: source.bytes,
        calls: source.calls,
        ms: Math.round(ms),
        chainChecked: full ? full.chainChecked : undefined,
        checkpoint: latest.note,
      };
      print(
        args,
        report,
        [
          `ballot ${entry.trackingCode} is in the log of election ${election!.id} at seq ${entry.seq}${saved ? ", as your saved receipt says" : ""}.`,
          `inclusion proven in the signed checkpoint of ${origin}, size ${latest.checkpoint.size}, root ${rootText(latest.checkpoint)} (${proof.length} hashes).`,
          consistent > 0 ? `the log only grew since the ${consistent} checkpoint${consistent === 1 ? "" : "s"} kept before: consistency proven.` : "no checkpoint of this log was kept before; this one is kept now.",
          full ? (full.chainChecked ? `the hash chain from the start to the head (seq ${full.headSeq}, ${full.headHash}) is intact.` : "the log's contents are sealed until the election closes: the chain was not recomputed.") : "",
          full?.chainChecked && full.sealed ? "the ballots are sealed until the election closes; run verify --full again then to check that each opens its commitment." : "",
          `downloaded ${source.bytes} bytes in ${source.calls} answers, ${Math.round(ms)} ms.`,
        ]
          .filter(Boolean)
          .join("\n"),
      );
    } finally {
      client.close();
    }
  },
};

/** A format 1 election has no transparency log: check the hash chain, as before. */
async function legacy(args: Args, client: VotingClient, election: voteV1.Election, entry: voteV1.BallotLogEntry, saved: SavedReceipt | undefined) {
  const log = await fullChain(client, election, entry);
  const report = {
    electionId: election.id,
    trackingCode: entry.trackingCode,
    seq: entry.seq,
    ballotHash: entry.hash,
    matchesSavedReceipt: saved ? true : undefined,
    chainChecked: log.chainChecked,
    ballotsOpened: !log.sealed,
    headSeq: log.headSeq,
    headHash: log.headHash,
  };
  if (!log.chainChecked) {
    print(args, report, `ballot ${entry.trackingCode} is in the log of election ${election.id} at seq ${entry.seq}${entry.hash ? ` (hash ${entry.hash})` : ""}.\nThe log's contents are sealed until the election closes; run verify again then to check the chain.`);
    return;
  }
  print(
    args,
    report,
    `ballot ${entry.trackingCode} is in the log of election ${election.id} at seq ${entry.seq}${saved ? ", as your saved receipt says" : ""}.\nThe hash chain from the start to the head (seq ${log.headSeq}, ${log.headHash}) is intact.` +
      (log.sealed ? "\nThe ballots are sealed until the election closes; run verify again then to check that each opens its commitment." : ""),
  );
}
