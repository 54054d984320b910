// StreamBallotsResponse decoding for readers of a whole log (tally-server's follow, `voting
// audit`): a million entries carry 12 million 64-bit varints, and the generated decoder turns
// each into a BigInt, then a string, then a number. This reads the plain messages that
// vote-server sends straight into the same objects; anything else (an unknown field, a varint
// of more than 7 bytes, a string that is not ASCII, ...) goes to the generated decoder, so the
// result is always what StreamBallotsResponse.decode gives.
import { BallotLogEntry, StreamBallotsResponse } from "./gen/voting/vote/v1/vote.js";

// Field tags (field number << 3 | wire type) of BallotLogEntry and Ballot.
const ENTRIES = 10;
const ELECTION_ID = 8;
const SEQ = 16;
const TRACKING_CODE = 26;
const BALLOT = 34;
const HASH = 42;
const COMMITMENT = 50;
const SALT = 58;
const CHOICE = 8;
const CHOICES_PACKED = 10;

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
  return {
    get entries() {
      return (entries ??= decodeStreamBallotsResponse(bytes).entries);
    },
  };
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

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
  private end(): number {
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
