// StreamBallotsResponse encoding for whole pages of the log: the bytes the generated encoder
// gives for `{ entries: rows.map((r) => toProtoEntry(r, sealed)) }`, written straight from
// the rows into one buffer. The generated encoder builds an entry object and a choices array
// per row, and a BigInt per uint64; a million-entry log is read by every follower.
import { STREAM_BALLOTS_TAGS, voteV1 } from "@voting/api";
import type { LogRow } from "../db/ballot-repository.js";
import { toProtoEntry } from "./mapping.js";

const { ENTRIES, ELECTION_ID, SEQ, TRACKING_CODE, BALLOT, HASH, COMMITMENT, SALT, CHOICES_PACKED } = STREAM_BALLOTS_TAGS;

// Bytes reserved for an entry's length: entries of 128 to 16,383 bytes (every usual one) need
// no move once written.
const ENTRY_LENGTH_GUESS = 2;

/** Grown as needed, reused for every message; each message is copied out of it. */
let scratch = Buffer.allocUnsafe(1 << 20);

const varintSize = (n: number) => {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

/** Writes n (a safe non-negative integer) as a varint at pos; returns the position after it. */
function putVarint(buf: Buffer, pos: number, n: number): number {
  while (n > 0x7fffffff) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  while (n >= 128) {
    buf[pos++] = (n & 127) | 128;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/**
 * Moves the `len` bytes written at `from` so that they start at `to` (a length prefix turned out
 * shorter or longer than reserved).
 */
const move = (buf: Buffer, from: number, len: number, to: number) => {
  if (from !== to) buf.copyWithin(to, from, from + len);
};

/** Writes a length-delimited string field (omitted when empty, as proto3 does); returns the position after it. */
function putString(buf: Buffer, pos: number, tag: number, s: string): number {
  if (s.length === 0) return pos;
  buf[pos] = tag;
  // Most strings are shorter than 128 bytes: written after a 1-byte length, the others moved.
  const len = buf.write(s, pos + 2);
  if (len < 128) {
    buf[pos + 1] = len;
    return pos + 2 + len;
  }
  const at = pos + 1 + varintSize(len);
  move(buf, pos + 2, len, at);
  putVarint(buf, pos + 1, len);
  return at + len;
}

const isSafeCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

/**
 * Writes a choices key ("3,1,2") as packed uint64 varints at pos; returns the position after
 * them, or -1 when the key is not plain (non-digits, an empty or a 16-digit part), which the
 * caller then encodes the generated way.
 */
function putChoices(buf: Buffer, pos: number, key: string): number {
  let n = 0;
  let digits = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 44) {
      if (digits === 0) return -1;
      pos = putVarint(buf, pos, n);
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 15) {
      n = n * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (digits === 0) return -1;
  return putVarint(buf, pos, n);
}

/** Worst case of an entry's encoding (3 bytes per UTF-16 unit, 10 per varint and length), so that writing it never overflows. */
const bound = (r: LogRow) => 128 + 3 * (r.trackingCode.length + r.hash.length + r.commitment.length + r.salt.length) + r.choices.length;

/** The scratch buffer, with room for n bytes from pos (what was written before pos kept). */
function room(pos: number, n: number): Buffer {
  if (pos + n > scratch.length) {
    const bigger = Buffer.allocUnsafe(Math.max(pos + n, 2 * scratch.length));
    scratch.copy(bigger, 0, 0, pos);
    scratch = bigger;
  }
  return scratch;
}

/** Writes one entry's fields at pos; returns the position after them, or -1 to encode it the generated way. */
function putEntry(buf: Buffer, pos: number, r: LogRow, sealed: boolean): number {
  if (!isSafeCount(r.electionId) || !isSafeCount(r.seq)) return -1;
  if (r.electionId !== 0) {
    buf[pos++] = ELECTION_ID;
    pos = putVarint(buf, pos, r.electionId);
  }
  if (r.seq !== 0) {
    buf[pos++] = SEQ;
    pos = putVarint(buf, pos, r.seq);
  }
  // Sealed format 1 entries show only their place (toProtoEntry).
  if (sealed && r.commitment === "") return pos;
  pos = putString(buf, pos, TRACKING_CODE, r.trackingCode);
  if (!sealed) {
    buf[pos++] = BALLOT;
    if (r.choices === "") buf[pos++] = 0;
    else {
      // Room for a 1-byte ballot length, the packed field's tag and a 1-byte length; the choices
      // move when their lengths need more.
      const start = pos + 1 + 2;
      const end = putChoices(buf, start, r.choices);
      if (end < 0) return -1;
      const packed = end - start;
      const ballotLen = 1 + varintSize(packed) + packed;
      const lenAt = pos + varintSize(ballotLen) + 1 + varintSize(packed);
      move(buf, start, packed, lenAt);
      pos = putVarint(buf, pos, ballotLen);
      buf[pos++] = CHOICES_PACKED;
      pos = putVarint(buf, pos, packed) + packed;
    }
  }
  pos = putString(buf, pos, HASH, r.hash);
  pos = putString(buf, pos, COMMITMENT, r.commitment);
  if (!sealed) pos = putString(buf, pos, SALT, r.salt);
  return pos;
}

/** The StreamBallotsResponse carrying these rows, as `toProtoEntry(r, sealed)` of each, encoded. */
export function encodeStreamBallots(rows: readonly LogRow[], sealed: boolean): Buffer {
  let pos = 0;
  for (const r of rows) {
    let buf = room(pos, bound(r));
    buf[pos] = ENTRIES;
    const start = pos + 1 + ENTRY_LENGTH_GUESS;
    let end = putEntry(buf, start, r, sealed);
    if (end < 0) {
      const bytes = voteV1.BallotLogEntry.encode(toProtoEntry(r, sealed)).finish();
      buf = room(pos, 16 + bytes.length);
      buf.set(bytes, start);
      end = start + bytes.length;
    }
    const len = end - start;
    const at = pos + 1 + varintSize(len);
    move(buf, start, len, at);
    putVarint(buf, pos + 1, len);
    pos = at + len;
  }
  return Buffer.from(scratch.subarray(0, pos));
}
