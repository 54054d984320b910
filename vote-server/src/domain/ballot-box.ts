// Casting ballots. Ballots that arrive while a commit is running wait and go into the
// next transaction together (group commit), whatever their elections; each is acknowledged
// only after its transaction commits.
import { ballotCommitment as entryCommitment, chainAndLeafHash, chainHash, choicesKey } from "@voting/election-core";
import { AlreadyExistsError, UnavailableError } from "@voting/server-kit";
import { randomInt } from "node:crypto";
import type { AppendPlan, BallotRepository, LogRow, Participation } from "../db/ballot-repository.js";
import { electionNotOpen, takesBallots, type Election } from "./elections.js";
import { ballotCommitment, newSalt, newTrackingCode, openReceipt, sealReceipt, type Receipt } from "./receipts.js";
import { BatchTree, type LogSigner } from "./transparency-log.js";
import type { StoredNode } from "@voting/election-core";

export interface CastRequest {
  electionId: number;
  voterId: number;
  choices: number[];
  idempotencyKey: Buffer;
}

interface Pending extends CastRequest {
  key: string;
  commitment: string;
  resolve(r: Receipt): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; receipt: Receipt } | { ok: false; error: Error };

export interface BallotBoxOptions {
  batchMax: number;
  /** How long the first ballot of an idle box waits for others to share its commit. */
  lingerMs: number;
  /** Called after entries are committed, with the new head seq and the entries, in seq order. */
  onAppended(electionId: number, headSeq: number, entries: LogRow[]): void;
  /** Signs the checkpoint of each commit (format 2), which the receipts of its ballots carry. */
  signer?: LogSigner;
  /** Called after each commit with the ballots it handled and the log entries it appended, all elections together (metrics). */
  onCommitted?(batchSize: number, appended: number): void;
  /** Called per election of a failed commit: each ballot of the batch was answered UNAVAILABLE. */
  onCommitFailed?(electionId: number, batchSize: number, err: unknown): void;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const alreadyVoted = (electionId: number) =>
  new AlreadyExistsError(`a ballot from you is already recorded in election ${electionId}; a retry must repeat its ballot and idempotency key`, {
    reason: "ALREADY_VOTED",
    metadata: { electionId: String(electionId) },
  });

/** Receipt for a retry whose key and ballot match the recorded participation, else ALREADY_EXISTS. */
function retryOutcome(p: Pending, recorded: Participation): Outcome {
  if (recorded.commitment !== p.commitment) return { ok: false, error: alreadyVoted(p.electionId) };
  return { ok: true, receipt: openReceipt(p.idempotencyKey, p.electionId, p.voterId, recorded.sealedReceipt) };
}

export function ballotBox(repo: BallotRepository, opts: BallotBoxOptions) {
  // One queue for all elections: a commit takes the waiting ballots of all of them.
  const queue: Pending[] = [];
  let running = false;

  function plan(batch: Pending[], election: Election, existing: Map<number, Participation>, frontier: StoredNode[] | undefined) {
    const outcomes = new Map<Pending, Outcome>();
    if (!takesBallots(election, Date.now())) {
      const error = electionNotOpen(election);
      for (const p of batch) outcomes.set(p, { ok: false, error });
      return { plan: undefined, result: outcomes };
    }
    const accepted: Pending[] = [];
    const inBatch = new Map<number, Participation>();
    const duplicates: Pending[] = [];
    for (const p of batch) {
      const recorded = existing.get(p.voterId);
      if (recorded) outcomes.set(p, retryOutcome(p, recorded));
      else if (inBatch.has(p.voterId)) duplicates.push(p);
      else {
        inBatch.set(p.voterId, { voterId: p.voterId, commitment: p.commitment, sealedReceipt: "" });
        accepted.push(p);
      }
    }
    // Sequence numbers in random order, so log position says nothing about arrival order.
    shuffle(accepted);
    let { headSeq: seq, headHash: hash } = election;
    const format = election.logFormat;
    const entries: AppendPlan["entries"] = [];
    // Format 2: the entries' leaves join the election's Merkle tree in this same transaction.
    const tree = format === 2 && frontier && opts.signer ? new BatchTree(seq, frontier) : undefined;
    const receipts: Receipt[] = [];
    for (const p of accepted) {
      seq += 1;
      const trackingCode = newTrackingCode();
      // Format 2 hashes a salted commitment, so the public entry reveals nothing of the ballot
      // until the salt is published with it; format 1 (older elections) hashes the choices.
      const salt = format === 2 ? newSalt() : "";
      const commitment = format === 2 ? entryCommitment(salt, p.choices) : "";
      const content = { electionId: election.id, seq, trackingCode, commitment, choices: p.choices };
      if (tree) {
        // The chain and the tree hash the same entry bytes: built once for both.
        const both = chainAndLeafHash(format, hash, content);
        hash = both.hash;
        tree.appendLeafHash(seq, both.leaf);
      } else hash = chainHash(format, hash, content);
      const receipt: Receipt = { electionId: election.id, seq, ballotHash: hash, trackingCode };
      entries.push({ electionId: election.id, seq, trackingCode, choices: p.key, hash, commitment, salt });
      inBatch.get(p.voterId)!.sealedReceipt = sealReceipt(p.idempotencyKey, p.voterId, receipt);
      receipts.push(receipt);
      outcomes.set(p, { ok: true, receipt });
    }
    let tlog: AppendPlan["tlog"];
    if (tree && entries.length > 0) {
      // One checkpoint per commit: every receipt of the batch carries it with its proof.
      const checkpoint = { size: seq, note: opts.signer!.sign(election.id, seq, tree.root()) };
      tlog = { nodes: tree.nodes, checkpoint };
      for (const r of receipts) Object.assign(r, { leafIndex: r.seq - 1, checkpoint: checkpoint.note, inclusionPath: tree.inclusionPath(r.seq - 1) });
    }
    for (const p of duplicates) outcomes.set(p, retryOutcome(p, inBatch.get(p.voterId)!));
    // Participation rows are written in voter-id order, not in the order of the log.
    const participations = [...inBatch.values()].sort((a, b) => a.voterId - b.voterId);
    return { plan: { participations, entries, head: { seq, hash }, tlog }, result: outcomes };
  }

  async function commit(batch: Pending[]): Promise<void> {
    const byElection = new Map<number, Pending[]>();
    for (const p of batch) {
      const ballots = byElection.get(p.electionId);
      if (ballots) ballots.push(p);
      else byElection.set(p.electionId, [p]);
    }
    const requests = [...byElection].map(([electionId, ballots]) => ({ electionId, voterIds: [...new Set(ballots.map((p) => p.voterId))] }));
    const entries = new Map<number, LogRow[]>();
    let outcomes: Map<number, Map<Pending, Outcome>>;
    try {
      outcomes = await repo.append(requests, (election, existing, frontier) => {
        const planned = plan(byElection.get(election.id)!, election, existing, frontier);
        entries.set(election.id, planned.plan?.entries ?? []);
        return planned;
      });
    } catch (err) {
      const error = new UnavailableError("the ballot could not be recorded; retry with the same idempotency key", { reason: "BALLOT_NOT_RECORDED", cause: err });
      for (const p of batch) p.reject(error);
      for (const [electionId, ballots] of byElection) opts.onCommitFailed?.(electionId, ballots.length, err);
      return;
    }
    opts.onCommitted?.(batch.length, [...entries.values()].reduce((n, rows) => n + rows.length, 0));
    for (const [electionId, ballots] of byElection) {
      const result = outcomes.get(electionId)!;
      for (const p of ballots) {
        const o = result.get(p)!;
        if (o.ok) p.resolve(o.receipt);
        else p.reject(o.error);
      }
      const rows = entries.get(electionId)!;
      // Entries are in seq order: the last is the new head.
      if (rows.length > 0) opts.onAppended(electionId, rows[rows.length - 1].seq, rows);
    }
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) await commit(queue.splice(0, opts.batchMax));
    } finally {
      running = false;
    }
  }

  return {
    /** Resolves with the receipt once the ballot is durably committed. */
    cast(req: CastRequest): Promise<Receipt> {
      const key = choicesKey(req.choices);
      const commitment = ballotCommitment(req.idempotencyKey, req.electionId, req.voterId, key);
      return new Promise<Receipt>((resolve, reject) => {
        queue.push({ ...req, key, commitment, resolve, reject });
        // An idle box lingers briefly so that calls arriving together share a commit; while a
        // commit runs, new ballots gather for the next one anyway.
        if (!running) {
          running = true;
          if (opts.lingerMs > 0) setTimeout(() => void drain(), opts.lingerMs);
          else setImmediate(() => void drain());
        }
      });
    },
  };
}

export type BallotBox = ReturnType<typeof ballotBox>;
