// The checked entries of one ballot log message as readLog hands them over: decoded objects,
// or byte ranges of the message they were checked over (no object per entry).
import { putCount, putPackedChoices, SPAN_CHOICES, SPAN_COMMITMENT, SPAN_ELECTION_ID, SPAN_HASH, SPAN_SALT, SPAN_SEQ, SPAN_STRIDE, SPAN_TRACKING_CODE, type LogEntryContent, type LogFormat } from "@voting/election-core";
import type { ByteMultiset } from "./byte-multiset.js";

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
export class ObjectBatch implements CheckedBatch {
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
export class SpanBatch implements CheckedBatch {
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
