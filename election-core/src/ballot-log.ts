// The ballot log's hash chain. docs/ballot-log.md specifies the same rules in prose so
// that anyone can check a log with their own tools.
import { createHash, hash as sha256Once } from "node:crypto";
import { sha256Into } from "./sha256.js";
import type { BallotGroup, Method } from "./tally/types.js";

/** Log formats: 1 hashes the choices (kept for elections created before 2); 2 hashes a salted commitment. */
export type LogFormat = 1 | 2;
export const LOG_FORMATS: readonly LogFormat[] = [1, 2];
/** The format new elections use. */
export const CURRENT_LOG_FORMAT: LogFormat = 2;
const LABEL: Record<LogFormat, string> = { 1: "voting-ballot-log-v1", 2: "voting-ballot-log-v2" };
const COMMITMENT_LABEL = "voting-ballot-commitment-v2\n";
const COMMITMENT_LABEL_BYTES = Buffer.from(COMMITMENT_LABEL, "latin1");

export interface LogEntryContent {
  electionId: number;
  seq: number;
  trackingCode: string;
  /** Format 2: the ballot's commitment, 64 hex digits; "" in format 1. */
  commitment: string;
  /** The ballot; undefined when withheld (embargo). */
  choices?: readonly number[];
  /** Format 2: the commitment's opening, 64 hex digits (32 bytes); with the choices. */
  salt?: string;
}

export interface ElectionDefinition {
  id: number;
  title: string;
  method: string;
  seats: number;
  candidateSource: string;
  candidates: readonly { id: number; name: string }[];
}

// Logs are checked a million entries at a time: each hash input is written into one reused
// buffer and hashed in one call (node:crypto's one-shot hash), not built from fresh Buffers;
// its ASCII text and numbers byte by byte, not through a string per entry.
let scratch = Buffer.allocUnsafe(1024);
const room = (bytes: number) => {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes * 2);
  return scratch;
};
const LF = 10;
/** Decimal digits of the largest safe integer, and a separator. */
const COUNT_BYTES = 17;

/** Format 2: SHA-256("voting-ballot-commitment-v2\n" || salt (32 bytes) || choices joined by "," || "\n"), hex. */
export function ballotCommitment(saltHex: string, choices: readonly number[]): string {
  if (!isHex64(saltHex)) throw new Error("a salt is 64 lower-case hex digits");
  return commitmentOf(saltHex, choices);
}

/** ballotCommitment of a salt already known to be 64 hex digits. */
function commitmentOf(saltHex: string, choices: readonly number[]): string {
  let b: Buffer;
  let n: number;
  if (choices.every(isCount)) {
    b = room(COMMITMENT_LABEL.length + 32 + COUNT_BYTES * choices.length + 1);
    b.set(COMMITMENT_LABEL_BYTES, 0);
    n = COMMITMENT_LABEL_BYTES.length;
    n += b.write(saltHex, n, 32, "hex");
    n = putChoices(b, n, choices);
    b[n++] = LF;
  } else {
    const tail = `${choices.join(",")}\n`;
    b = room(COMMITMENT_LABEL.length + 32 + tail.length * 3);
    n = put(b, 0, COMMITMENT_LABEL);
    n += b.write(saltHex, n, 32, "hex");
    n += b.write(tail, n, "utf8");
  }
  return sha256Once("sha256", b.subarray(0, n), "hex");
}

/** A number that `${n}` writes as plain decimal digits. */
const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

/** Writes the decimal digits of a safe non-negative integer into b from n; returns the end. */
export function putCount(b: Uint8Array, n: number, v: number): number {
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  for (let i = n + digits - 1; i >= n; i--) {
    b[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return n + digits;
}

function putChoices(b: Buffer, n: number, choices: readonly number[]): number {
  for (let i = 0; i < choices.length; i++) {
    if (i > 0) b[n++] = 44; // ","
    n = putCount(b, n, choices[i]);
  }
  return n;
}

/** Writes s as UTF-8 from b[n] (room for s.length * 3 bytes is there); returns the end. */
const put = (b: Buffer, n: number, s: string) => n + b.write(s, n, "utf8");

/**
 * The entry bytes: five LF-terminated ASCII lines (format label, election id, seq, tracking
 * code, and the choices in format 1 or the commitment in format 2). The chain, and later the
 * Merkle tree, hash exactly these bytes.
 */
export function entryBytes(format: LogFormat, e: LogEntryContent): Buffer {
  return Buffer.from(entryText(format, e), "utf8");
}

function entryText(format: LogFormat, e: LogEntryContent): string {
  let last: string;
  if (format === 1) {
    if (!e.choices) throw new Error(`entry ${e.seq} of a format 1 log has no choices`);
    last = e.choices.join(",");
  } else last = e.commitment;
  return `${LABEL[format]}\n${e.electionId}\n${e.seq}\n${e.trackingCode}\n${last}\n`;
}

/** Writes the entry bytes into the scratch buffer from `at`; returns their end. */
function writeEntry(format: LogFormat, e: LogEntryContent, at: number): number {
  if (format === 1 && !e.choices) throw new Error(`entry ${e.seq} of a format 1 log has no choices`);
  if (!isCount(e.electionId) || !isCount(e.seq) || (format === 1 && !e.choices!.every(isCount))) {
    const text = entryText(format, e);
    return at + room(at + text.length * 3).write(text, at, "utf8");
  }
  const last = format === 1 ? COUNT_BYTES * e.choices!.length : 3 * e.commitment.length;
  const b = room(at + LABEL[format].length + 2 * COUNT_BYTES + 3 * e.trackingCode.length + last + 4);
  let n = put(b, at, LABEL[format]);
  b[n++] = LF;
  n = putCount(b, n, e.electionId);
  b[n++] = LF;
  n = putCount(b, n, e.seq);
  b[n++] = LF;
  n = put(b, n, e.trackingCode);
  b[n++] = LF;
  n = format === 1 ? putChoices(b, n, e.choices!) : put(b, n, e.commitment);
  b[n++] = LF;
  return n;
}

/** hash_0: SHA-256 of the format label, " genesis\n" and the election's canonical JSON definition. */
export function genesisHash(format: LogFormat, d: ElectionDefinition): string {
  const definition = JSON.stringify({
    id: d.id,
    title: d.title,
    method: d.method,
    seats: d.seats,
    candidate_source: d.candidateSource,
    candidates: [...d.candidates].sort((a, b) => a.id - b.id).map((c) => ({ id: c.id, name: c.name })),
  });
  return createHash("sha256").update(`${LABEL[format]} genesis\n${definition}`, "utf8").digest("hex");
}

/** hash_n = SHA-256(hash_{n-1} as 32 raw bytes || entry bytes of entry n), hex. */
export function chainHash(format: LogFormat, prevHashHex: string, e: LogEntryContent): string {
  return chained(prevHashHex, writeEntry(format, e, 32));
}

/** The chain hash of the entry bytes at scratch[32 .. end). */
function chained(prevHashHex: string, end: number): string {
  // A malformed previous hash counts as Buffer.from reads it.
  if (prevHashHex.length !== 64 || scratch.write(prevHashHex, 0, 32, "hex") !== 32) {
    return createHash("sha256").update(Buffer.from(prevHashHex, "hex")).update(scratch.subarray(32, end)).digest("hex");
  }
  return sha256Once("sha256", scratch.subarray(0, end), "hex");
}

/**
 * chainHash, and the entry's transparency-log leaf hash (RFC 9162: SHA-256(0x00 || entry
 * bytes), see tlog/merkle.ts) from the same bytes, for readers that check both. The leaf is
 * written into `leafInto` when given (32 bytes), else into a new Buffer.
 */
export function chainAndLeafHash(format: LogFormat, prevHashHex: string, e: LogEntryContent, leafInto: Buffer = Buffer.allocUnsafe(32)): { hash: string; leaf: Buffer } {
  const end = writeEntry(format, e, 32);
  const hash = chained(prevHashHex, end);
  // The byte before the entry bytes becomes the leaf prefix.
  scratch[31] = 0;
  sha256Into(scratch.subarray(31, end), leafInto, 0);
  return { hash, leaf: leafInto };
}

/** 1 at the char codes of lower-case hex digits, 0 at every other UTF-16 code unit. */
const LOWER_HEX = new Uint8Array(65536);
for (const c of "0123456789abcdef") LOWER_HEX[c.charCodeAt(0)] = 1;

/** 64 lower-case hex digits. A table and no branch per digit: a third of the time of range tests, twice per ballot checked. */
function isHex64(s: string): boolean {
  if (s.length !== 64) return false;
  let all = 1;
  for (let i = 0; i < 64; i++) all &= LOWER_HEX[s.charCodeAt(i)];
  return all === 1;
}

/** Key of a ballot in a multiset of identical ballots. */
export function choicesKey(choices: readonly number[]): string {
  return choices.join(",");
}

export function parseChoicesKey(key: string): number[] {
  return key === "" ? [] : key.split(",").map(Number);
}

export type ChainCheck = { ok: true; headSeq: number; headHash: string; sealed: number } | { ok: false; badSeq: number; reason: string };

/**
 * Checks that entries continue a chain whose last entry was (seq, hash): seq numbers without
 * gaps, every hash recomputed and, in format 2, every opened ballot opening its commitment.
 * `sealed` counts entries whose ballot was withheld; with `requireBallots` such an entry fails.
 */
export function checkChain(
  format: LogFormat,
  from: { seq: number; hash: string },
  entries: Iterable<LogEntryContent & { hash: string }>,
  opts: { requireBallots?: boolean } = {},
): ChainCheck {
  let { seq, hash } = from;
  let sealed = 0;
  for (const e of entries) {
    if (e.seq !== seq + 1) return { ok: false, badSeq: seq + 1, reason: `expected seq ${seq + 1}, found ${e.seq}` };
    const problem = entryProblem(format, e, opts.requireBallots ?? false);
    if (problem) return { ok: false, badSeq: e.seq, reason: problem };
    if (!e.choices) sealed++;
    const expected = chainHash(format, hash, e);
    if (expected !== e.hash) return { ok: false, badSeq: e.seq, reason: `hash mismatch at seq ${e.seq}` };
    seq = e.seq;
    hash = e.hash;
  }
  return { ok: true, headSeq: seq, headHash: hash, sealed };
}

/** Why an entry cannot be right on its own (before its hash is checked), if it cannot. */
export function entryProblem(format: LogFormat, e: LogEntryContent, requireBallot: boolean): string | undefined {
  if (!e.choices) {
    if (format === 1) return `the ballot of entry ${e.seq} is withheld, so its hash cannot be checked`;
    if (requireBallot) return `the ballot of entry ${e.seq} is withheld`;
  }
  if (format === 1) return undefined;
  if (!isHex64(e.commitment)) return `entry ${e.seq} has no valid commitment`;
  if (!e.choices) return undefined;
  if (!e.salt || !isHex64(e.salt)) return `the ballot of entry ${e.seq} comes without a valid salt`;
  if (commitmentOf(e.salt, e.choices) !== e.commitment) return `the ballot of entry ${e.seq} does not open its commitment`;
  return undefined;
}

/**
 * How a log entry's choices read as a ballot for the election's method: plurality counts the
 * one choice, approval the set, the ranked methods the order. tally-server and `voting
 * audit` both count the log this way.
 */
export function ballotGroupOf(method: Method, key: string, count: number): BallotGroup {
  const choices = parseChoicesKey(key);
  if (method === "approval") return { ranks: [choices], count };
  if (method === "plurality") return { ranks: [choices.slice(0, 1)], count };
  return { ranks: choices.map((c) => [c]), count };
}

/**
 * Entries as byte ranges of one message, for readers of whole logs (`voting audit`) that check
 * a million entries without building an object per entry. Per entry, SPAN_STRIDE numbers:
 * election id, seq, then [start, end) in the message of the tracking code, the packed choices
 * (start -1: no ballot), the hash, the commitment and the salt (absent strings: start = end).
 * A scanner fills them only from messages whose strings are ASCII and whose numbers are exact.
 */
export const SPAN_STRIDE = 12;
export const SPAN_ELECTION_ID = 0;
export const SPAN_SEQ = 1;
export const SPAN_TRACKING_CODE = 2;
export const SPAN_CHOICES = 4;
export const SPAN_HASH = 6;
export const SPAN_COMMITMENT = 8;
export const SPAN_SALT = 10;

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
/** The value of a lower-case hex digit's byte; -1 for every other byte. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX_DIGITS[i]] = i;

/** Whether the 64 hex digits at b[at ..) write the digest (a binary string of 32 chars). */
function hexIsDigest(b: Uint8Array, at: number, digest: string): boolean {
  for (let i = 0; i < 32; i++) {
    const c = digest.charCodeAt(i);
    if (b[at + 2 * i] !== HEX_DIGITS[c >> 4] || b[at + 2 * i + 1] !== HEX_DIGITS[c & 15]) return false;
  }
  return true;
}

/** The digits of the packed varints of b[at .. end) joined by ",", into c from n; -1 if one is not an exact number. */
export function putPackedChoices(b: Uint8Array, at: number, end: number, c: Uint8Array, n: number): number {
  let first = true;
  while (at < end) {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === 7 || at === end) return -1;
      const x = b[at++];
      value += (x & 0x7f) * scale;
      if (x < 0x80) break;
      scale *= 128;
    }
    if (!first) c[n++] = 44; // ","
    first = false;
    n = putCount(c as Buffer, n, value);
  }
  return n;
}

/** The commitment input; its label is written once, when the buffer is made. */
let commitScratch = withLabel(Buffer.allocUnsafe(1024), COMMITMENT_LABEL_BYTES, 0);
/**
 * Views of a scratch buffer from `from` to each end used so far: an input's length takes a
 * few values over a log, so each hash call gets its view without a new object.
 */
class Views {
  private readonly byEnd: Uint8Array[] = [];
  constructor(
    readonly buf: Buffer,
    private readonly from: number,
  ) {}
  to(end: number): Uint8Array {
    return (this.byEnd[end] ??= new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.from, end - this.from));
  }
}
let commitViews = new Views(commitScratch, 0);
const FORMAT2_LABEL = Buffer.from(`${LABEL[2]}\n`, "latin1");
/** The chain input: the previous hash stays in its first 32 bytes, the label after it is written once. */
let chainScratch = withLabel(Buffer.allocUnsafe(1024), FORMAT2_LABEL, 32);
let chainViews = new Views(chainScratch, 0);
let leafViews = new Views(chainScratch, 31);

function withLabel(b: Buffer, label: Buffer, at: number): Buffer {
  label.copy(b, at);
  return b;
}

/**
 * Format 2 entries given as spans (above) of `bytes`, checked as checkChain and readers of the
 * log check them: seq `firstSeq + i`, a commitment of 64 hex digits, a ballot with a salt of 64
 * hex digits that opens it, and a published hash of 64 hex digits equal to the recomputed one.
 * Returns how many leading entries pass; it stops at the first that does not, or that has no
 * ballot (the caller checks such an entry the ordinary way, which also names what is wrong).
 * `prev` (32 bytes) is the previous hash and becomes the last passing entry's; the passing
 * entries' transparency-log leaf hashes go to leaves[32 i ..).
 */
export function checkSpans(bytes: Uint8Array, spans: Float64Array, count: number, firstSeq: number, prev: Uint8Array, leaves: Uint8Array): number {
  for (let i = 0; i < count; i++) {
    const s = i * SPAN_STRIDE;
    const electionId = spans[s + SPAN_ELECTION_ID];
    const seq = spans[s + SPAN_SEQ];
    // Positions in a message are small integers.
    const chStart = spans[s + SPAN_CHOICES] | 0;
    const chEnd = spans[s + SPAN_CHOICES + 1] | 0;
    const tcStart = spans[s + SPAN_TRACKING_CODE] | 0;
    const tcEnd = spans[s + SPAN_TRACKING_CODE + 1] | 0;
    const commit = spans[s + SPAN_COMMITMENT] | 0;
    const salt = spans[s + SPAN_SALT] | 0;
    const hashAt = spans[s + SPAN_HASH] | 0;
    if (seq !== firstSeq + i || chStart < 0 || !isCount(electionId)) return i;
    // The digests are compared with lower-case hex digits (hexIsDigest): other text never matches.
    if ((spans[s + SPAN_COMMITMENT + 1] | 0) - commit !== 64 || (spans[s + SPAN_SALT + 1] | 0) - salt !== 64 || (spans[s + SPAN_HASH + 1] | 0) - hashAt !== 64) return i;
    // The commitment: label || salt (32 bytes) || choices || "\n".
    if (commitScratch.length < 64 + 16 * (chEnd - chStart)) {
      commitScratch = withLabel(Buffer.allocUnsafe(2 * (64 + 16 * (chEnd - chStart))), COMMITMENT_LABEL_BYTES, 0);
      commitViews = new Views(commitScratch, 0);
    }
    const c = commitScratch;
    let n = COMMITMENT_LABEL_BYTES.length;
    let bad = 0;
    for (let k = 0; k < 32; k++) {
      const hi = HEX_VALUE[bytes[salt + 2 * k]];
      const lo = HEX_VALUE[bytes[salt + 2 * k + 1]];
      bad |= hi | lo;
      c[n + k] = (hi << 4) | lo;
    }
    if (bad < 0) return i;
    n = putPackedChoices(bytes, chStart, chEnd, c, n + 32);
    if (n < 0) return i;
    c[n++] = LF;
    if (!hexIsDigest(bytes, commit, sha256Once("sha256", commitViews.to(n), "binary"))) return i;
    // The chain: previous hash (32 bytes) || entry bytes; the leaf: 0x00 || entry bytes.
    const need = 32 + FORMAT2_LABEL.length + 2 * COUNT_BYTES + (tcEnd - tcStart) + 66;
    if (chainScratch.length < need) {
      const bigger = withLabel(Buffer.allocUnsafe(2 * need), FORMAT2_LABEL, 32);
      for (let k = 0; k < 32; k++) bigger[k] = chainScratch[k];
      chainScratch = bigger;
      chainViews = new Views(chainScratch, 0);
      leafViews = new Views(chainScratch, 31);
    }
    const b = chainScratch;
    if (i === 0) for (let k = 0; k < 32; k++) b[k] = prev[k];
    n = putCount(b, 32 + FORMAT2_LABEL.length, electionId);
    b[n++] = LF;
    n = putCount(b, n, seq);
    b[n++] = LF;
    for (let k = tcStart; k < tcEnd; k++) b[n++] = bytes[k];
    b[n++] = LF;
    for (let k = 0; k < 64; k++) b[n++] = bytes[commit + k];
    b[n++] = LF;
    const digest = sha256Once("sha256", chainViews.to(n), "binary");
    if (!hexIsDigest(bytes, hashAt, digest)) return i;
    b[31] = 0;
    const leaf = sha256Once("sha256", leafViews.to(n), "binary");
    const at = 32 * i;
    for (let k = 0; k < 32; k++) {
      b[k] = digest.charCodeAt(k);
      leaves[at + k] = leaf.charCodeAt(k);
    }
  }
  if (count > 0) for (let k = 0; k < 32; k++) prev[k] = chainScratch[k];
  return count;
}
