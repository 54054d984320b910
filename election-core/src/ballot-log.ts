// The ballot log's hash chain. docs/ballot-log.md specifies the same rules in prose so
// that anyone can check a log with their own tools.
import { createHash, hash as sha256Once } from "node:crypto";
import type { BallotGroup, Method } from "./tally/types.js";

/** Log formats: 1 hashes the choices (kept for elections created before 2); 2 hashes a salted commitment. */
export type LogFormat = 1 | 2;
export const LOG_FORMATS: readonly LogFormat[] = [1, 2];
/** The format new elections use. */
export const CURRENT_LOG_FORMAT: LogFormat = 2;
const LABEL: Record<LogFormat, string> = { 1: "voting-ballot-log-v1", 2: "voting-ballot-log-v2" };
const COMMITMENT_LABEL = "voting-ballot-commitment-v2\n";
const HEX64 = /^[0-9a-f]{64}$/;

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
// buffer and hashed in one call (node:crypto's one-shot hash), not built from fresh Buffers.
let scratch = Buffer.allocUnsafe(1024);
const room = (bytes: number) => {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes * 2);
  return scratch;
};
const COMMITMENT_LABEL_BYTES = Buffer.byteLength(COMMITMENT_LABEL);

/** Format 2: SHA-256("voting-ballot-commitment-v2\n" || salt (32 bytes) || choices joined by "," || "\n"), hex. */
export function ballotCommitment(saltHex: string, choices: readonly number[]): string {
  if (!HEX64.test(saltHex)) throw new Error("a salt is 64 lower-case hex digits");
  return commitmentOf(saltHex, choices);
}

/** ballotCommitment of a salt already known to be 64 hex digits. */
function commitmentOf(saltHex: string, choices: readonly number[]): string {
  const tail = `${choices.join(",")}\n`;
  const b = room(COMMITMENT_LABEL_BYTES + 32 + tail.length * 3);
  let n = b.write(COMMITMENT_LABEL, 0, "latin1");
  n += b.write(saltHex, n, "hex");
  n += b.write(tail, n, "utf8");
  return sha256Once("sha256", b.subarray(0, n), "hex");
}

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
  const text = entryText(format, e);
  const b = room(32 + text.length * 3);
  // A malformed previous hash must not leave the last entry's bytes in the buffer.
  if (b.write(prevHashHex, 0, "hex") !== 32) return createHash("sha256").update(Buffer.from(prevHashHex, "hex")).update(text, "utf8").digest("hex");
  const n = 32 + b.write(text, 32, "utf8");
  return sha256Once("sha256", b.subarray(0, n), "hex");
}

/**
 * chainHash, and the entry's transparency-log leaf hash (RFC 9162: SHA-256(0x00 || entry
 * bytes), see tlog/merkle.ts) from the same bytes, for readers that check both.
 */
export function chainAndLeafHash(format: LogFormat, prevHashHex: string, e: LogEntryContent): { hash: string; leaf: Buffer } {
  const text = entryText(format, e);
  const b = room(32 + text.length * 3);
  if (b.write(prevHashHex, 0, "hex") !== 32) {
    const bytes = Buffer.from(text, "utf8");
    return { hash: createHash("sha256").update(Buffer.from(prevHashHex, "hex")).update(bytes).digest("hex"), leaf: sha256Once("sha256", Buffer.concat([Buffer.of(0), bytes]), "buffer") };
  }
  const n = 32 + b.write(text, 32, "utf8");
  const hash = sha256Once("sha256", b.subarray(0, n), "hex");
  // The byte before the entry bytes becomes the leaf prefix.
  b[31] = 0;
  return { hash, leaf: sha256Once("sha256", b.subarray(31, n), "buffer") };
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
  if (!HEX64.test(e.commitment)) return `entry ${e.seq} has no valid commitment`;
  if (!e.choices) return undefined;
  if (!e.salt || !HEX64.test(e.salt)) return `the ballot of entry ${e.seq} comes without a valid salt`;
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
