// The BLT reader (OpenSTV, droop, Electoral Reform Society). It reads bytes as they come and
// adds each ballot line to a multiset of distinct rankings, so a file of a million ballots
// costs its distinct rankings, never an object per ballot. Candidate codes are the file's numbers.
import { createReadStream } from "node:fs";
import { KeyBuilder, RankingMultiset } from "./multiset.js";
import type { Candidate } from "./types.js";

/** A ballot file that does not parse; the message starts with the line at fault. */
export class TallyFileError extends Error {
  override name = "TallyFileError";
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

export interface BltFile {
  title: string;
  seats: number;
  candidates: Candidate[];
  /** Ballots as written: withdrawn candidates' marks included (see RankingMultiset.without). */
  ballots: RankingMultiset;
  /** Ids of withdrawn candidates; leave them out of the candidates you tabulate. */
  withdrawn: number[];
}

export const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
const isWhole = (t: string) => /^\d+$/.test(t);

/** The line without a `#` comment (a `#` inside a quoted name is kept). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === "#" && !quoted) return line.slice(0, i);
  }
  return line;
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const HASH = 35;
const ZERO = 48;
const NINE = 57;
const isBlank = (b: number) => b === SPACE || (b >= 9 && b <= 13);

/** Feed it bytes with push(), then call end(). */
export class BltReader {
  private carry: Uint8Array | undefined;
  private afterCR = false;
  private started = false;
  private lineNo = 0;
  private phase: "head" | "ballots" | "names" = "head";
  private n = 0;
  private seats = 0;
  private readonly withdrawn: number[] = [];
  private readonly ballots = new RankingMultiset();
  private sawBallot = false;
  private readonly key = new KeyBuilder();
  private readonly names: { no: number; text: string }[] = [];

  push(chunk: Uint8Array): void {
    let i = 0;
    if (this.afterCR && chunk.length > 0 && chunk[0] === LF) i++;
    this.afterCR = false;
    if (this.carry) {
      // Only the carried partial line is copied, joined with the head of this chunk.
      let eol = i;
      while (eol < chunk.length && chunk[eol] !== LF && chunk[eol] !== CR) eol++;
      const joined = concat(this.carry, chunk.subarray(i, eol));
      this.carry = undefined;
      if (eol === chunk.length) {
        this.carry = joined;
        return;
      }
      this.lines(joined, 0, joined.length, true);
      i = this.skipEol(chunk, eol);
    }
    this.lines(chunk, i, chunk.length, false);
  }

  /** Lines of buf[from .. to); a last line without its end is carried to the next push. */
  private lines(buf: Uint8Array, from: number, to: number, whole: boolean): void {
    if (!this.started && from === 0 && to >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
    this.started ||= to > from;
    let i = from;
    for (; i < to; i++) {
      const b = buf[i];
      if (b !== LF && b !== CR) continue;
      this.line(buf, from, i);
      i = this.skipEol(buf, i) - 1;
      from = i + 1;
    }
    if (whole) this.line(buf, from, to);
    else if (from < to) this.carry = buf.slice(from, to);
  }

  /** The index after the line end at i (CR, LF or CRLF); a CR last in the chunk may pair with the next. */
  private skipEol(buf: Uint8Array, i: number): number {
    if (buf[i] === CR) {
      if (i + 1 === buf.length) this.afterCR = true;
      else if (buf[i + 1] === LF) return i + 2;
    }
    return i + 1;
  }

  end(): BltFile {
    const last = this.carry ?? new Uint8Array(0);
    this.carry = undefined;
    this.line(last, 0, last.length);
    const lines = this.lineNo;
    if (this.phase === "head") throw new TallyFileError(lines, 'the file is empty; expected a first line "candidates seats"');
    if (this.phase === "ballots") throw new TallyFileError(lines, 'expected a line "0" after the ballots');
    const strings = quotedStrings(this.names, this.n);
    const n = this.n;
    if (strings.length < n) throw new TallyFileError(lines, `expected ${n} quoted candidate names, found ${strings.length}`);
    if (strings.length > n + 1) throw new TallyFileError(strings[n + 1].no, `unexpected ${quote(strings[n + 1].value)} after the title`);
    return {
      title: strings[n]?.value ?? "",
      seats: this.seats,
      candidates: strings.slice(0, n).map((s, k) => ({ id: k + 1, name: s.value })),
      ballots: this.ballots,
      withdrawn: this.withdrawn,
    };
  }

  private line(buf: Uint8Array, from: number, to: number): void {
    const no = ++this.lineNo;
    if (this.phase === "names") {
      this.names.push({ no, text: Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString("utf8") });
      return;
    }
    if (this.phase === "ballots") {
      if (this.fastBallot(buf, from, to)) return;
      this.key.clear(); // what the fast path had marked
    }
    const raw = stripComment(Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString("utf8")).trim();
    if (raw === "") return;
    const tokens = raw.split(/\s+/);
    if (this.phase === "head") this.head(no, tokens, raw);
    else this.slowBallot(no, tokens);
  }

  private head(no: number, t: string[], raw: string): void {
    if (t.length !== 2 || !t.every(isWhole)) throw new TallyFileError(no, `expected "candidates seats", got ${quote(raw)}`);
    this.n = Number(t[0]);
    this.seats = Number(t[1]);
    if (this.n < 1) throw new TallyFileError(no, "the number of candidates must be at least 1");
    if (this.seats < 1) throw new TallyFileError(no, "the number of seats must be at least 1");
    this.phase = "ballots";
  }

  /** The common line "weight c1 c2 ... 0" in bytes; false sends anything else to slowBallot. */
  private fastBallot(buf: Uint8Array, from: number, to: number): boolean {
    let i = from;
    let weight = -1;
    let ended = false;
    let marked = false;
    for (;;) {
      while (i < to && isBlank(buf[i])) i++;
      if (i === to || buf[i] === HASH) break;
      if (ended) return false;
      let v = 0;
      const s = i;
      while (i < to && buf[i] >= ZERO && buf[i] <= NINE) v = v * 10 + buf[i++] - ZERO;
      if (i === s || i - s > 15 || (i < to && !isBlank(buf[i]) && buf[i] !== HASH)) return false;
      if (weight < 0) weight = v;
      else if (v === 0 && i - s === 1) ended = true;
      else if (v < 1 || v > this.n) return false;
      else {
        this.key.mark(v);
        this.key.endRank();
        marked = true;
      }
    }
    // A lone "0" ends the ballots; a blank line is passed over; the rest need a closing 0.
    if (weight === 0 && !ended && !marked) {
      this.phase = "names";
      return true;
    }
    if (weight < 0) return true;
    if (!ended) return false;
    this.key.addTo(this.ballots, weight);
    this.sawBallot = true;
    return true;
  }

  private slowBallot(no: number, t: string[]): void {
    const candidateId = (s: string): number => {
      if (!isWhole(s) || Number(s) < 1 || Number(s) > this.n) throw new TallyFileError(no, `expected a candidate number 1 to ${this.n}, got ${quote(s)}`);
      return Number(s);
    };
    if (t.length === 1 && t[0] === "0") {
      this.phase = "names";
      return;
    }
    if (t[0].startsWith("-")) {
      if (this.sawBallot) throw new TallyFileError(no, "withdrawn candidates (negative numbers) must come before the ballots");
      for (const w of t) {
        if (!/^-\d+$/.test(w)) throw new TallyFileError(no, `expected a withdrawn candidate as a negative number, got ${quote(w)}`);
        this.withdrawn.push(candidateId(w.slice(1)));
      }
      return;
    }
    let k = 0;
    if (/^\(.*\)$/.test(t[0])) k++; // an optional ballot id, "(id)"
    if (k >= t.length || !isWhole(t[k])) throw new TallyFileError(no, `expected a ballot weight, got ${quote(t[k] ?? "")}`);
    const count = Number(t[k++]);
    if (!Number.isSafeInteger(count)) throw new TallyFileError(no, `ballot weight ${t[k - 1]} is too large`);
    const ranks: number[][] = [];
    let closed = false;
    for (; k < t.length; k++) {
      if (t[k] === "0") {
        closed = true;
        k++;
        break;
      }
      if (t[k] === "-") continue; // a skipped preference
      ranks.push(t[k].split("=").map(candidateId));
    }
    if (!closed) throw new TallyFileError(no, "expected 0 at the end of the ballot");
    if (k < t.length) throw new TallyFileError(no, `unexpected ${quote(t[k])} after the closing 0`);
    this.ballots.add(ranks, count);
    this.sawBallot = true;
  }
}

/** Quoted names, then the title, possibly spread over lines. */
function quotedStrings(lines: { no: number; text: string }[], n: number): { no: number; value: string }[] {
  const strings: { no: number; value: string }[] = [];
  for (const { no, text: line } of lines) {
    let j = 0;
    while (j < line.length) {
      const ch = line[j];
      if (ch === "#") break;
      if (/\s/.test(ch)) {
        j++;
        continue;
      }
      if (ch !== '"') {
        const word = line.slice(j).split(/\s/)[0];
        throw new TallyFileError(no, `expected a quoted ${strings.length < n ? "candidate name" : "title"}, got ${quote(word)}`);
      }
      const end = line.indexOf('"', j + 1);
      if (end < 0) throw new TallyFileError(no, "a quoted string is not closed on its line");
      strings.push({ no, value: line.slice(j + 1, end) });
      j = end + 1;
    }
  }
  return strings;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function parseBltBytes(bytes: Uint8Array): BltFile {
  const reader = new BltReader();
  reader.push(bytes);
  return reader.end();
}

/** Reads a BLT file as a stream: memory grows with its distinct rankings, not its ballots. */
export async function readBlt(path: string): Promise<BltFile> {
  const reader = new BltReader();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) reader.push(chunk as Buffer);
  return reader.end();
}
