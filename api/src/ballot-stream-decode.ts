// StreamBallotsResponse decoding for readers of a whole log (tally-server's follow, `voting
// audit`): a million entries carry 12 million 64-bit varints, and the generated decoder turns
// each into a BigInt, then a string, then a number. This reads the plain messages that
// vote-server sends straight into the same objects; anything else (an unknown field, a varint
// of more than 7 bytes, a string that is not ASCII, ...) goes to the generated decoder, so the
// result is always what StreamBallotsResponse.decode gives.
import { SPAN_CHOICES, SPAN_COMMITMENT, SPAN_ELECTION_ID, SPAN_HASH, SPAN_SALT, SPAN_SEQ, SPAN_STRIDE, SPAN_TRACKING_CODE } from "@voting/election-core";
import { BallotLogEntry, StreamBallotsResponse } from "./gen/voting/vote/v1/vote.js";
import { STREAM_BALLOTS_TAGS } from "./ballot-stream-tags.js";

const { ENTRIES, ELECTION_ID, SEQ, TRACKING_CODE, BALLOT, HASH, COMMITMENT, SALT, CHOICE, CHOICES_PACKED } = STREAM_BALLOTS_TAGS;

/** Thrown inside the fast path when a message is not a plain one; never escapes. */
const NOT_PLAIN = new Error("not a plain StreamBallotsResponse");

export function decodeStreamBallotsResponse(input: Uint8Array): StreamBallotsResponse {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    return { entries: new Reader(buf).entries() };
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return StreamBallotsResponse.decode(input);
  }
}

/**
 * The deserializer of StreamBallots responses: the entries are decoded when first read. A
 * stream holds up to 16 messages its reader has not reached; as bytes they cost the garbage
 * collector nothing, as 16,000 decoded entries they would outlive its young generation.
 */
export function lazyStreamBallotsResponse(bytes: Buffer): StreamBallotsResponse {
  let entries: BallotLogEntry[] | undefined;
  const msg = {
    get entries() {
      return (entries ??= decodeStreamBallotsResponse(bytes).entries);
    },
  };
  messageBytes.set(msg, bytes);
  return msg;
}

const messageBytes = new WeakMap<StreamBallotsResponse, Buffer>();

/** The bytes a StreamBallots response read by the typed client came from. */
export const streamBallotsBytes = (msg: StreamBallotsResponse): Buffer | undefined => messageBytes.get(msg);

/**
 * The entries of a plain StreamBallots message as byte ranges (election-core's SPAN_* layout),
 * for readers that check entries without decoding them. Plain here is stricter than for
 * decodeStreamBallotsResponse: each field at most once, the choices packed. Returns the spans
 * and the number of entries, or undefined for any other message, which is then decoded.
 */
export function scanStreamBallots(bytes: Buffer): { spans: Float64Array; count: number } | undefined {
  let spans = new Float64Array(1024 * SPAN_STRIDE);
  let count = 0;
  const r = new Reader(bytes);
  try {
    while (r.pos < bytes.length) {
      if (bytes[r.pos++] !== ENTRIES) return undefined;
      const end = r.end();
      if ((count + 1) * SPAN_STRIDE > spans.length) {
        const bigger = new Float64Array(2 * spans.length);
        bigger.set(spans);
        spans = bigger;
      }
      r.entrySpans(end, spans, count++ * SPAN_STRIDE);
    }
  } catch (err) {
    if (err === NOT_PLAIN) return undefined;
    throw err;
  }
  return { spans, count };
}

/** The span slot of each string field, by tag. */
const STRING_SPAN: Record<number, number> = { [TRACKING_CODE]: SPAN_TRACKING_CODE, [HASH]: SPAN_HASH, [COMMITMENT]: SPAN_COMMITMENT, [SALT]: SPAN_SALT };

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  /** One entry's spans into out[at ..): absent fields are empty, an absent ballot -1. */
  entrySpans(end: number, out: Float64Array, at: number): void {
    const { buf } = this;
    out.fill(0, at, at + SPAN_STRIDE);
    out[at + SPAN_CHOICES] = -1;
    let seen = 0;
    while (this.pos < end) {
      const tag = buf[this.pos++];
      // Each field once: a repeated one would be merged or replaced by the decoder.
      const bit = 1 << (tag >> 3);
      if (tag >= 64 || seen & bit) throw NOT_PLAIN;
      seen |= bit;
      if (tag === ELECTION_ID) out[at + SPAN_ELECTION_ID] = this.varint();
      else if (tag === SEQ) out[at + SPAN_SEQ] = this.varint();
      else if (tag === BALLOT) {
        const to = this.end();
        out[at + SPAN_CHOICES] = out[at + SPAN_CHOICES + 1] = to;
        if (this.pos < to) {
          if (buf[this.pos++] !== CHOICES_PACKED) throw NOT_PLAIN;
          const last = this.end();
          if (last !== to) throw NOT_PLAIN;
          out[at + SPAN_CHOICES] = this.pos;
          while (this.pos < to) this.varint();
          if (this.pos !== to) throw NOT_PLAIN;
        }
      } else {
        const slot = STRING_SPAN[tag];
        if (slot === undefined) throw NOT_PLAIN;
        const to = this.end();
        let or = 0;
        for (let i = this.pos; i < to; i++) or |= buf[i];
        if (or >= 0x80) throw NOT_PLAIN;
        out[at + slot] = this.pos;
        out[at + slot + 1] = to;
        this.pos = to;
      }
    }
    if (this.pos !== end) throw NOT_PLAIN;
  }

  entries(): BallotLogEntry[] {
    const out: BallotLogEntry[] = [];
    const { buf } = this;
    while (this.pos < buf.length) {
      if (buf[this.pos++] !== ENTRIES) throw NOT_PLAIN;
      const end = this.end();
      out.push(this.entry(end));
    }
    return out;
  }

  private entry(end: number): BallotLogEntry {
    let electionId = 0;
    let seq = 0;
    let trackingCode = "";
    let ballot: { choices: number[] } | undefined;
    let hash = "";
    let commitment = "";
    let salt = "";
    while (this.pos < end) {
      switch (this.buf[this.pos++]) {
        case ELECTION_ID:
          electionId = this.varint();
          break;
        case SEQ:
          seq = this.varint();
          break;
        case TRACKING_CODE:
          trackingCode = this.ascii();
          break;
        case BALLOT:
          ballot = this.ballot(this.end());
          break;
        case HASH:
          hash = this.ascii();
          break;
        case COMMITMENT:
          commitment = this.ascii();
          break;
        case SALT:
          salt = this.ascii();
          break;
        default:
          throw NOT_PLAIN;
      }
    }
    if (this.pos !== end) throw NOT_PLAIN;
    // Keys in the generated decoder's order.
    return { electionId, seq, trackingCode, ballot, hash, commitment, salt };
  }

  private ballot(end: number): { choices: number[] } {
    const choices: number[] = [];
    while (this.pos < end) {
      const tag = this.buf[this.pos++];
      if (tag === CHOICE) choices.push(this.varint());
      else if (tag === CHOICES_PACKED) {
        const to = this.end();
        while (this.pos < to) choices.push(this.varint());
        if (this.pos !== to) throw NOT_PLAIN;
      } else throw NOT_PLAIN;
    }
    if (this.pos !== end) throw NOT_PLAIN;
    return { choices };
  }

  /** A varint of at most 7 bytes (below 2^49: exact as a number and a safe integer). */
  private varint(): number {
    const { buf } = this;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = buf[this.pos++];
      if (b === undefined) throw NOT_PLAIN;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw NOT_PLAIN;
  }

  /** The end of a length-delimited field that starts here. */
  end(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw NOT_PLAIN;
    return end;
  }

  /** A string field of ASCII bytes (UTF-8 decoding gives the same characters). */
  private ascii(): string {
    const end = this.end();
    const { buf } = this;
    let or = 0;
    for (let i = this.pos; i < end; i++) or |= buf[i];
    if (or >= 0x80) throw NOT_PLAIN;
    const s = buf.toString("latin1", this.pos, end);
    this.pos = end;
    return s;
  }
}
