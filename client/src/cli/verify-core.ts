// The checks of `voting verify`, shared by the CLI and the web front end: the receipt's entry,
// the log's latest signed checkpoint, the entry's inclusion in it, and the consistency of every
// checkpoint kept before (and the receipt's own) with it. Throws SplitViewError with the evidence.
import { entryBytes, leafHash } from "@voting/election-core";
import { isServiceError, Status, voteV1, type VotingClient } from "@voting/api";
import { RefusedError } from "./context.js";
import { readLog, type LogCheck } from "./log-reader.js";
import type { CheckpointStore } from "./checkpoint-store.js";
import { grpcLogSource, receiptBytes } from "./log-source.js";
import { trustCheckpoint } from "./log-trust.js";
import { proveAllConsistent, proveIncluded, rootText, type KeptCheckpoint } from "./tlog-check.js";

/** What a saved receipt (a line of receipts.jsonl) must hold for the checks. */
export interface SavedReceipt {
  trackingCode?: string;
  seq: number;
  ballotHash: string;
  checkpoint?: string;
}

/** Tracking codes as people type them: any case, with spaces or dashes. */
export const normalTrackingCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, "");

/** The receipt with this tracking code among receipts.jsonl lines, if any. */
export function findReceipt(jsonLines: string, code: string): SavedReceipt | undefined {
  const want = normalTrackingCode(code);
  for (const line of jsonLines.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as SavedReceipt;
      if (r && typeof r === "object" && r.trackingCode === want) return r;
    } catch {
      // not a receipt line
    }
  }
  return undefined;
}

/** A receipt as `voting vote` saves it (one JSON line of receipts.jsonl): proof hashes in base64. */
export function receiptRecord(receipt: voteV1.Receipt) {
  return { ...receipt, inclusionPath: receipt.inclusionPath.map((h) => Buffer.from(h).toString("base64")) };
}

export interface ProofReport {
  kind: "proofs";
  electionId: number;
  trackingCode: string;
  seq: number;
  leafIndex: number;
  ballotHash: string;
  matchesSavedReceipt?: boolean;
  origin: string;
  treeSize: number;
  rootHash: string;
  inclusionProofHashes: number;
  checkpointsChecked: number;
  bytesDownloaded: number;
  calls: number;
  full?: LogCheck;
  checkpoint: string;
}

export interface ChainReport {
  kind: "chain";
  electionId: number;
  trackingCode: string;
  seq: number;
  ballotHash: string;
  matchesSavedReceipt?: boolean;
  log: LogCheck;
}

export interface VerifyOptions {
  store: CheckpointStore;
  saved?: SavedReceipt;
  logKey?: string;
  /** Also download the whole log and recompute its hash chain. */
  full?: boolean;
}

/** The old check: download the whole log and recompute its hash chain. */
async function fullChain(client: VotingClient, election: voteV1.Election, entry: voteV1.BallotLogEntry) {
  let found = false;
  const log = await readLog(client, election, (batch) => {
    const i = entry.seq - batch.firstSeq;
    if (i >= 0 && i < batch.length) {
      const e = batch.entry(i);
      found = e.hash === entry.hash && e.trackingCode === entry.trackingCode;
    }
  });
  if (log.problem) throw new RefusedError(`the ballot log of election ${election.id} is broken at seq ${log.problem.seq}: ${log.problem.reason}`);
  if (log.chainChecked && !found) throw new RefusedError(`the log of election ${election.id} does not hold this ballot at seq ${entry.seq}`);
  return log;
}

const hasNoLog = (err: unknown) => isServiceError(err) && (err.code === Status.FAILED_PRECONDITION || err.code === Status.UNIMPLEMENTED);

export async function verifyBallot(client: VotingClient, code: string, opts: VerifyOptions): Promise<ProofReport | ChainReport> {
  const receiptRes = await client.votes.getReceipt({ trackingCode: code });
  const entry = receiptRes.entry!;
  const electionRes = await client.elections.getElection({ electionId: entry.electionId });
  const election = electionRes.election!;
  const { saved } = opts;
  // A sealed format 1 entry comes without its hash (docs/ballot-log.md). Checked after the
  // proofs, so that a rewrite also shows its evidence.
  const receiptMismatch = () => {
    if (saved && (saved.seq !== entry.seq || (entry.hash !== "" && saved.ballotHash !== entry.hash))) {
      throw new RefusedError(`the log has this ballot at seq ${entry.seq} with hash ${entry.hash}, but your receipt says seq ${saved.seq}, hash ${saved.ballotHash}`);
    }
  };
  const common = { electionId: election.id, trackingCode: entry.trackingCode, seq: entry.seq, ballotHash: entry.hash, matchesSavedReceipt: saved ? true : undefined };
  const source = grpcLogSource(client, election.id);
  source.count(receiptBytes(receiptRes));
  source.count(voteV1.GetElectionResponse.encode(electionRes).finish().length);
  let served: Awaited<ReturnType<typeof source.checkpoint>>;
  try {
    served = await source.checkpoint();
  } catch (err) {
    if (!hasNoLog(err)) throw err;
    // A format 1 election has no transparency log: check the hash chain, as before.
    receiptMismatch();
    return { kind: "chain", ...common, log: await fullChain(client, election, entry) };
  }
  const { store } = opts;
  const latest = await trustCheckpoint(store, served, election.id, opts.logKey);
  const origin = latest.checkpoint.origin;
  // Every checkpoint kept for this log, and the receipt's own (a receipt from before the store, or another machine's copy).
  const kept: KeptCheckpoint[] = await store.list(origin);
  if (saved?.checkpoint) {
    const r = await trustCheckpoint(store, { note: saved.checkpoint }, election.id, opts.logKey);
    kept.push({ size: r.checkpoint.size, root: rootText(r.checkpoint), note: saved.checkpoint });
  }
  const index = entry.seq - 1;
  const leaf = leafHash(entryBytes(2, { electionId: entry.electionId, seq: entry.seq, trackingCode: entry.trackingCode, commitment: entry.commitment }));
  const consistent = await proveAllConsistent(source, kept, latest);
  receiptMismatch();
  const proof = await proveIncluded(source, index, leaf, latest);
  await store.save(origin, { size: latest.checkpoint.size, root: rootText(latest.checkpoint), note: latest.note }, "verify", true);
  const full = opts.full ? await fullChain(client, election, entry) : undefined;
  return {
    kind: "proofs",
    ...common,
    leafIndex: index,
    origin,
    treeSize: latest.checkpoint.size,
    rootHash: rootText(latest.checkpoint),
    inclusionProofHashes: proof.length,
    checkpointsChecked: consistent,
    bytesDownloaded: source.bytes,
    calls: source.calls,
    full,
    checkpoint: latest.note,
  };
}

/** The proof report for people, as the CLI and the web verify page say it. */
export function verifyText(r: ProofReport, ms?: number): string {
  const { full } = r;
  const c = r.checkpointsChecked;
  return [
    `ballot ${r.trackingCode} is in the log of election ${r.electionId} at seq ${r.seq}${r.matchesSavedReceipt ? ", as your saved receipt says" : ""}.`,
    `inclusion proven in the signed checkpoint of ${r.origin}, size ${r.treeSize}, root ${r.rootHash} (${r.inclusionProofHashes} hashes).`,
    c > 0 ? `the log only grew since the ${c} checkpoint${c === 1 ? "" : "s"} kept before: consistency proven.` : "no checkpoint of this log was kept before; this one is kept now.",
    full ? (full.chainChecked ? `the hash chain from the start to the head (seq ${full.headSeq}, ${full.headHash}) is intact.` : "the log's contents are sealed until the election closes: the chain was not recomputed.") : "",
    full?.chainChecked && full.sealed ? "the ballots are sealed until the election closes; run verify --full again then to check that each opens its commitment." : "",
    ms !== undefined ? `downloaded ${r.bytesDownloaded} bytes in ${r.calls} answers, ${ms} ms.` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

export function chainText(r: ChainReport): string {
  const { log } = r;
  if (!log.chainChecked) {
    return `ballot ${r.trackingCode} is in the log of election ${r.electionId} at seq ${r.seq}${r.ballotHash ? ` (hash ${r.ballotHash})` : ""}.\nThe log's contents are sealed until the election closes; run verify again then to check the chain.`;
  }
  return (
    `ballot ${r.trackingCode} is in the log of election ${r.electionId} at seq ${r.seq}${r.matchesSavedReceipt ? ", as your saved receipt says" : ""}.\nThe hash chain from the start to the head (seq ${log.headSeq}, ${log.headHash}) is intact.` +
    (log.sealed ? "\nThe ballots are sealed until the election closes; run verify again then to check that each opens its commitment." : "")
  );
}
