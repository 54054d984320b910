// Reads an election's public ballot log and checks its hash chain as it goes.
import {
  chainAndLeafHash,
  chainHash,
  checkSpans,
  entryProblem,
  putCount,
  putPackedChoices,
  SPAN_CHOICES,
  SPAN_COMMITMENT,
  SPAN_ELECTION_ID,
  SPAN_HASH,
  SPAN_SALT,
  SPAN_SEQ,
  SPAN_STRIDE,
  SPAN_TRACKING_CODE,
  type LogEntryContent,
  type LogFormat,
} from "@voting/election-core";
import { scanStreamBallots, streamBallotsBytes, type voteV1, type VotingClient } from "@voting/api";
import type { ByteMultiset } from "./byte-multiset.js";
import { SpanCheckWorker, type SpanCheckAnswer } from "./span-check-worker.js";

export interface CheckedEntry extends LogEntryContent {
  hash: string;
  /** Format 2: the entry's transparency-log leaf hash. */
  leaf?: Buffer;
}

/**
 * The checked entries of one message, seq firstSeq .. firstSeq + length - 1. Readers of a
 * whole log use the accessors: entries read straight from the message bytes have no object
 * each unless entry(i) is asked for.
 */
export interface CheckedBatch {
  readonly length: number;
  readonly firstSeq: number;
  /** Format 2: the leaf hashes, 32 bytes each, side by side. */
  readonly leaves?: Buffer;
  entry(i: number): CheckedEntry;
  hash(i: number): string;
  /**
   * Counts the choices of entries 0 .. n - 1 into `into`, keyed by their protobuf varints (no
   * bytes when withheld). Equal choices can have different keys (a varint may be written
   * longer than needed): choicesOfVarints reads either back.
   */
  countChoices(into: ByteMultiset, n: number): void;
  /** The entries as `voting audit --out` writes them: one JSON object a line. */
  jsonLines(): Buffer;
}

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

/** The numbers written as protobuf varints in b (a countChoices key). */
export function choicesOfVarints(b: Uint8Array): number[] {
  const choices: number[] = [];
  let value = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    value += (b[i] & 0x7f) * scale;
    scale *= 128;
    if (b[i] < 0x80) {
      choices.push(value);
      value = 0;
      scale = 1;
    }
  }
  return choices;
}

let varintScratch = new Uint8Array(256);

/** One `--out` line: format 2 entries carry their commitment and its opening. */
function jsonLine(format: LogFormat, e: CheckedEntry): string {
  // The common line without JSON.stringify of an object: by now commitment, salt and hash are
  // checked hex and the choices numbers; the tracking code alone needs quoting.
  if (format === 2 && e.choices && e.salt) {
    return `{"electionId":${e.electionId},"seq":${e.seq},"trackingCode":${JSON.stringify(e.trackingCode)},"commitment":"${e.commitment}","choices":[${e.choices.join(",")}],"salt":"${e.salt}","hash":"${e.hash}"}`;
  }
  return JSON.stringify(
    format === 2
      ? { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.choices, salt: e.salt, hash: e.hash }
      : { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, choices: e.choices, hash: e.hash },
  );
}

/** Checked entries as decoded objects. */
class ObjectBatch implements CheckedBatch {
  readonly firstSeq: number;
  readonly leaves?: Buffer;
  constructor(
    private readonly format: LogFormat,
    private readonly entries: CheckedEntry[],
  ) {
    this.firstSeq = entries[0].seq;
    if (format === 2) {
      this.leaves = Buffer.allocUnsafe(32 * entries.length);
      entries.forEach((e, i) => this.leaves!.set(e.leaf!, 32 * i));
    }
  }
  get length() {
    return this.entries.length;
  }
  entry(i: number) {
    return this.entries[i];
  }
  hash(i: number) {
    return this.entries[i].hash;
  }
  countChoices(into: ByteMultiset, n: number) {
    for (let i = 0; i < n; i++) {
      const choices = this.entries[i].choices ?? [];
      if (varintScratch.length < 8 * choices.length) varintScratch = new Uint8Array(16 * choices.length);
      let end = 0;
      for (let v of choices) {
        for (; v >= 128; v = Math.floor(v / 128)) varintScratch[end++] = 128 | v % 128;
        varintScratch[end++] = v;
      }
      into.add(varintScratch, 0, end);
    }
  }
  jsonLines(): Buffer {
    const text = this.entries.map((e) => `${jsonLine(this.format, e)}\n`).join("");
    return Buffer.from(text, "utf8");
  }
}

const QUOTE = 34;
const FIELD_COMMITMENT = Buffer.from('","commitment":"', "latin1");
const FIELD_CHOICES = Buffer.from('","choices":[', "latin1");
const FIELD_SALT = Buffer.from('],"salt":"', "latin1");
const FIELD_HASH = Buffer.from('","hash":"', "latin1");
const FIELD_ELECTION_ID = Buffer.from('{"electionId":', "latin1");
const FIELD_SEQ = Buffer.from(',"seq":', "latin1");
const FIELD_TRACKING_CODE = Buffer.from(',"trackingCode":', "latin1");
const LINE_END = Buffer.from('"}\n', "latin1");

/** Format 2 entries with their ballots, checked over the bytes of their message (checkSpans). */
class SpanBatch implements CheckedBatch {
  constructor(
    private readonly bytes: Buffer,
    private readonly spans: Float64Array,
    readonly length: number,
    readonly firstSeq: number,
    readonly leaves: Buffer,
  ) {}

  private text(i: number, slot: number): string {
    const s = i * SPAN_STRIDE + slot;
    return this.bytes.toString("latin1", this.spans[s], this.spans[s + 1]);
  }

  private choices(i: number): number[] {
    const s = i * SPAN_STRIDE + SPAN_CHOICES;
    return choicesOfVarints(this.bytes.subarray(this.spans[s], this.spans[s + 1]));
  }

  entry(i: number): CheckedEntry {
    const s = i * SPAN_STRIDE;
    return {
      electionId: this.spans[s + SPAN_ELECTION_ID],
      seq: this.spans[s + SPAN_SEQ],
      trackingCode: this.text(i, SPAN_TRACKING_CODE),
      commitment: this.text(i, SPAN_COMMITMENT),
      choices: this.choices(i),
      salt: this.text(i, SPAN_SALT),
      hash: this.text(i, SPAN_HASH),
      leaf: this.leaves.subarray(32 * i, 32 * i + 32),
    };
  }

  hash(i: number): string {
    return this.text(i, SPAN_HASH);
  }

  countChoices(into: ByteMultiset, n: number) {
    for (let i = 0; i < n; i++) into.add(this.bytes, this.spans[i * SPAN_STRIDE + SPAN_CHOICES], this.spans[i * SPAN_STRIDE + SPAN_CHOICES + 1]);
  }

  jsonLines(): Buffer {
    const { bytes, spans } = this;
    // Room for every line: 330 bytes of names, hex and two numbers, the tracking code (6 bytes a
    // byte when escaped), and at most 4 bytes of digits and comma per byte of the choices' varints.
    let room = 0;
    for (let i = 0; i < this.length; i++) {
      const s = i * SPAN_STRIDE;
      room += 330 + 6 * (spans[s + SPAN_TRACKING_CODE + 1] - spans[s + SPAN_TRACKING_CODE]) + 4 * (spans[s + SPAN_CHOICES + 1] - spans[s + SPAN_CHOICES]);
    }
    const out = Buffer.allocUnsafe(room);
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const s = i * SPAN_STRIDE;
      n = copyBytes(out, n, FIELD_ELECTION_ID, 0, FIELD_ELECTION_ID.length);
      n = putCount(out, n, spans[s + SPAN_ELECTION_ID]);
      n = copyBytes(out, n, FIELD_SEQ, 0, FIELD_SEQ.length);
      n = putCount(out, n, spans[s + SPAN_SEQ]);
      n = copyBytes(out, n, FIELD_TRACKING_CODE, 0, FIELD_TRACKING_CODE.length);
      const tc = spans[s + SPAN_TRACKING_CODE] | 0;
      const tcEnd = spans[s + SPAN_TRACKING_CODE + 1] | 0;
      if (jsonSafe(bytes, tc, tcEnd)) {
        out[n++] = QUOTE;
        n = copyBytes(out, n, bytes, tc, tcEnd);
      } else {
        const quoted = JSON.stringify(bytes.toString("latin1", tc, tcEnd));
        n += out.write(quoted.slice(0, -1), n, "utf8");
      }
      n = copyBytes(out, n, FIELD_COMMITMENT, 0, FIELD_COMMITMENT.length);
      n = copyBytes(out, n, bytes, spans[s + SPAN_COMMITMENT] | 0, spans[s + SPAN_COMMITMENT + 1] | 0);
      n = copyBytes(out, n, FIELD_CHOICES, 0, FIELD_CHOICES.length);
      n = putPackedChoices(bytes, spans[s + SPAN_CHOICES] | 0, spans[s + SPAN_CHOICES + 1] | 0, out, n);
      n = copyBytes(out, n, FIELD_SALT, 0, FIELD_SALT.length);
      n = copyBytes(out, n, bytes, spans[s + SPAN_SALT] | 0, spans[s + SPAN_SALT + 1] | 0);
      n = copyBytes(out, n, FIELD_HASH, 0, FIELD_HASH.length);
      n = copyBytes(out, n, bytes, spans[s + SPAN_HASH] | 0, spans[s + SPAN_HASH + 1] | 0);
      n = copyBytes(out, n, LINE_END, 0, LINE_END.length);
    }
    return out.subarray(0, n);
  }
}

/** Copies from[start .. end) into out from n; returns the end. A loop: Buffer.copy costs more for a few dozen bytes. */
function copyBytes(out: Uint8Array, n: number, from: Uint8Array, start: number, end: number): number {
  for (let k = start; k < end; k++) out[n++] = from[k];
  return n;
}


/** Whether JSON.stringify leaves the ASCII bytes b[from .. to) as they are: no control character, quote or backslash. */
function jsonSafe(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c < 0x20 || c === QUOTE || c === 92) return false;
  }
  return true;
}
