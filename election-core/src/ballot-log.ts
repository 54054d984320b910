// The ballot log's hash chain. docs/ballot-log.md specifies the same rules in prose so
// that anyone can check a log with their own tools.
import { createHash } from "node:crypto";
import type { BallotGroup, Method } from "./tally/types.js";

export const LOG_FORMAT = "voting-ballot-log-v1";

export interface LogEntryContent {
  electionId: number;
  seq: number;
  trackingCode: string;
  choices: readonly number[];
}

export interface ElectionDefinition {
  id: number;
  title: string;
  method: string;
  seats: number;
  candidateSource: string;
  candidates: readonly { id: number; name: string }[];
}

/** Bytes that a log entry's hash commits to: five LF-terminated ASCII lines. */
export function canonicalEntryBytes(e: LogEntryContent): Buffer {
  return Buffer.from(`${LOG_FORMAT}\n${e.electionId}\n${e.seq}\n${e.trackingCode}\n${e.choices.join(",")}\n`, "utf8");
}

/** hash_0: SHA-256 of the format name and the election's canonical JSON definition. */
export function genesisHash(d: ElectionDefinition): string {
  const definition = JSON.stringify({
    id: d.id,
    title: d.title,
    method: d.method,
    seats: d.seats,
    candidate_source: d.candidateSource,
    candidates: [...d.candidates].sort((a, b) => a.id - b.id).map((c) => ({ id: c.id, name: c.name })),
  });
  return createHash("sha256").update(`${LOG_FORMAT} genesis\n${definition}`, "utf8").digest("hex");
}

/** hash_n = SHA-256(hash_{n-1} as 32 raw bytes || canonical bytes of entry n), hex. */
export function chainHash(prevHashHex: string, e: LogEntryContent): string {
  return createHash("sha256").update(Buffer.from(prevHashHex, "hex")).update(canonicalEntryBytes(e)).digest("hex");
}

/** Key of a ballot in a multiset of identical ballots. */
export function choicesKey(choices: readonly number[]): string {
  return choices.join(",");
}

export function parseChoicesKey(key: string): number[] {
  return key === "" ? [] : key.split(",").map(Number);
}

export type ChainCheck = { ok: true; headSeq: number; headHash: string } | { ok: false; badSeq: number; reason: string };

/**
 * Checks that entries continue a chain whose last entry was (seq, hash): seq numbers
 * without gaps and every hash recomputed.
 */
export function checkChain(
  from: { seq: number; hash: string },
  entries: Iterable<LogEntryContent & { hash: string }>,
): ChainCheck {
  let { seq, hash } = from;
  for (const e of entries) {
    if (e.seq !== seq + 1) return { ok: false, badSeq: seq + 1, reason: `expected seq ${seq + 1}, found ${e.seq}` };
    const expected = chainHash(hash, e);
    if (expected !== e.hash) return { ok: false, badSeq: e.seq, reason: `hash mismatch at seq ${e.seq}` };
    seq = e.seq;
    hash = e.hash;
  }
  return { ok: true, headSeq: seq, headHash: hash };
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
