// Reads an election's public ballot log and checks its hash chain as it goes.
import { chainAndLeafHash, chainHash, checkSpans, entryProblem, SPAN_HASH, SPAN_STRIDE, type LogFormat } from "@voting/election-core";
import { scanStreamBallots, streamBallotsBytes, type voteV1, type VotingClient } from "@voting/api";
import { ObjectBatch, SpanBatch, type CheckedBatch, type CheckedEntry } from "./checked-batch.js";
import { SpanCheckWorker, type SpanCheckAnswer } from "./span-check-worker.js";

export { choicesOfVarints, type CheckedBatch, type CheckedEntry } from "./checked-batch.js";

export type LogProblem = { seq: number; reason: string };

export interface LogCheck {
  problem?: LogProblem;
  /** Some ballots were withheld (embargo): their commitments could not be opened. */
  sealed: boolean;
  /** Whether the chain was recomputed to headSeq; a format 1 log cannot be while sealed. */
  chainChecked: boolean;
  headSeq: number;
  headHash: string;
}

/** The election's log format; servers from before format 2 do not say, and use format 1. */
export const logFormatOf = (election: voteV1.Election): LogFormat => (election.logFormat === 2 ? 2 : 1);

export interface ReadLogOptions {
  /** Check every entry as a decoded object (the byte-level checks are skipped); for tests. */
  objectsOnly?: boolean;
  /**
   * Run the byte-level checks in a worker thread while onEntries takes the messages before
   * (default: for logs of WORKER_FROM entries or more). A given worker is used, not closed.
   */
  worker?: boolean | SpanCheckWorker;
}

/** From this many entries a worker thread pays for its start (tens of milliseconds). */
export const WORKER_FROM = 20_000;

/** Messages handed to the worker and not yet taken: enough to keep both threads busy. */
const IN_FLIGHT = 4;

/** A message sent to the worker: its result stands only if the chain reached it as predicted. */
interface Job {
  msg: voteV1.StreamBallotsResponse;
  bytes: Buffer;
  spans: Float64Array;
  count: number;
  firstSeq: number;
  /** The chain hash it was checked from, and the one it ends at if it passes (both as published). */
  prevHash: string;
  lastHash: string;
  answer: Promise<SpanCheckAnswer | undefined>;
}

/**
 * Streams entries 1..end and verifies each link and, where the ballot is published, that it
 * opens the entry's commitment. Calls onEntries with the good entries of each message, in
 * order (a million entries are a thousand calls, not a million); returns the first problem.
 *
 * A format 2 message of plain entries with their ballots is checked over its bytes (no object
 * or hex string per entry); any other message, and one in which anything fails, is checked
 * entry by entry as decoded objects, which names the problem.
 *
 * With a worker, a plain message is checked there from the hash its predecessor publishes for
 * its last entry, while onEntries runs on earlier ones. Its result is taken only if the chain
 * checked here reached exactly that hash and seq; otherwise (and for anything the worker did
 * not pass) the message is checked here as without a worker, so findings are the same.
 */
export async function readLog(client: VotingClient, election: voteV1.Election, onEntries: (batch: CheckedBatch) => void | Promise<void>, opts: ReadLogOptions = {}): Promise<LogCheck> {
  const format = logFormatOf(election);
  let seq = 0;
  let hash = election.logGenesisHash;
  let sealed = false;
  const stop = (problem?: LogProblem) => ({ problem, sealed, chainChecked: !problem, headSeq: seq, headHash: hash });
  const byBytes = format === 2 && !opts.objectsOnly;
  const useWorker = byBytes && (opts.worker ?? election.ballotCount >= WORKER_FROM);
  // Started first: the thread loads while the stream is opened.
  const worker = useWorker ? (useWorker instanceof SpanCheckWorker ? useWorker : new SpanCheckWorker()) : undefined;
  const closeWorker = () => worker !== opts.worker && worker?.close();
  const stream = await client.votes.streamBallots({ electionId: election.id, afterSeq: 0, follow: false }).catch((err: unknown) => {
    closeWorker();
    throw err;
  });
  let good: CheckedEntry[] = [];
  // Hands over the good entries read so far: before returning a problem too.
  const deliver = async () => {
    if (good.length > 0) await onEntries(new ObjectBatch(format, good));
    good = [];
  };
  // The previous hash as bytes, for the byte-level checks; undefined when `hash` is not 64 hex digits.
  const prev = Buffer.alloc(32);
  const prevOf = (hex: string) => (hex.length === 64 && prev.write(hex, 0, 32, "hex") === 32 ? prev : undefined);

  /** Checks one message on this thread, over its bytes if it can, else as objects; a result ends the log. */
  const checkHere = async (msg: voteV1.StreamBallotsResponse): Promise<LogCheck | undefined> => {
    const bytes = byBytes ? streamBallotsBytes(msg) : undefined;
    const scanned = bytes && prevOf(hash) ? scanStreamBallots(bytes) : undefined;
    if (bytes && scanned && scanned.count > 0) {
      const leaves = Buffer.allocUnsafe(32 * scanned.count);
      if (checkSpans(bytes, scanned.spans, scanned.count, seq + 1, prev, leaves) === scanned.count) {
        return accept(new SpanBatch(bytes, scanned.spans, scanned.count, seq + 1, leaves));
      }
    }
    const { entries } = msg;
    // The message's leaf hashes side by side: one allocation, not one per entry.
    const leaves = format === 2 ? Buffer.allocUnsafe(32 * entries.length) : undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      // A format 1 entry hashes the ballot itself: without it there is nothing to check.
      if (!e.ballot && format === 1) return await deliver(), { sealed: true, chainChecked: false, headSeq: seq, headHash: hash };
      if (e.seq !== seq + 1) return await deliver(), stop({ seq: seq + 1, reason: e.seq > seq + 1 ? `entry ${seq + 1} is missing (next is ${e.seq})` : `entry ${e.seq} appears again after ${seq}` });
      const entry: CheckedEntry = { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot?.choices, salt: e.salt || undefined, hash: e.hash, leaf: undefined };
      const problem = entryProblem(format, entry, false);
      if (problem) return await deliver(), stop({ seq: e.seq, reason: problem });
      let expected: string;
      if (leaves) ({ hash: expected, leaf: entry.leaf } = chainAndLeafHash(format, hash, entry, leaves.subarray(32 * i, 32 * i + 32)));
      else expected = chainHash(format, hash, entry);
      if (expected !== e.hash) return await deliver(), stop({ seq: e.seq, reason: `hash of entry ${e.seq} does not follow from the chain (published ${e.hash.slice(0, 16)}…, recomputed ${expected.slice(0, 16)}…)` });
      sealed ||= !entry.choices;
      seq = e.seq;
      hash = e.hash;
      good.push(entry);
    }
    await deliver();
    return undefined;
  };
  const accept = async (batch: SpanBatch) => {
    seq += batch.length;
    hash = batch.hash(batch.length - 1);
    await onEntries(batch);
    return undefined;
  };

  // The worker's messages, oldest first. A plain message goes there with the chain hash and seq
  // the one before it ends at if it passes; anything else waits until those before are taken.
  const jobs: Job[] = [];
  const send = (msg: voteV1.StreamBallotsResponse): Job | undefined => {
    const bytes = worker?.alive ? streamBallotsBytes(msg) : undefined;
    const last = jobs.at(-1);
    const prevHash = last ? last.lastHash : hash;
    const scanned = bytes && prevOf(prevHash) ? scanStreamBallots(bytes) : undefined;
    if (!bytes || !scanned || scanned.count === 0) return undefined;
    const { spans, count } = scanned;
    const firstSeq = last ? last.firstSeq + last.count : seq + 1;
    const lastHash = bytes.toString("latin1", spans[(count - 1) * SPAN_STRIDE + SPAN_HASH], spans[(count - 1) * SPAN_STRIDE + SPAN_HASH + 1]);
    return { msg, bytes, spans, count, firstSeq, prevHash, lastHash, answer: worker!.check(bytes, spans, count, firstSeq, prev) };
  };
  const take = async (job: Job): Promise<LogCheck | undefined> => {
    const a = await job.answer;
    if (a && a.checked === job.count && job.prevHash === hash && job.firstSeq === seq + 1) return accept(new SpanBatch(job.bytes, job.spans, job.count, job.firstSeq, a.leaves));
    return checkHere(job.msg);
  };
  try {
    for await (const msg of stream as AsyncIterable<voteV1.StreamBallotsResponse>) {
      const job = send(msg);
      if (job) jobs.push(job);
      while (jobs.length > (job ? IN_FLIGHT : 0)) {
        const end = await take(jobs.shift()!);
        if (end) return end;
      }
      if (job) continue;
      const end = await checkHere(msg);
      if (end) return end;
    }
    while (jobs.length > 0) {
      const end = await take(jobs.shift()!);
      if (end) return end;
    }
  } finally {
    stream.cancel();
    closeWorker();
  }
  return stop();
}
