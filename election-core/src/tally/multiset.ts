// The multiset of distinct rankings: what a million ballots reduce to. Each ranking is kept
// already packed the way every method counts it (one mark per candidate, TIED on a mark whose
// rank goes on), so counting candidates numbered 1..n reads these arrays in place. Memory
// grows with the distinct rankings, not with the ballots; the BLT reader fills one straight
// from the file.
import { TallyInputError } from "./errors.js";

/** Largest candidate code a ranking may name. */
export const MAX_CODE = 0xffff;
/** On a mark: the next mark shares this mark's rank (an overvote). */
export const TIED = 1 << 30;
/** A mark's candidate: its code - 1 here; a candidate index once packed for a count. */
export const CANDIDATE = TIED - 1;

/** Distinct non-blank rankings: ranking e is marks[start[e]] .. marks[start[e + 1] - 1], cast by count[e] ballots. */
export interface PackedRankings {
  rankings: number;
  start: Int32Array;
  marks: Int32Array;
  count: Float64Array;
}

/**
 * Distinct rankings with their counts. Rankings name candidates by code, 1 to 65535 (a BLT
 * file's candidate numbers, or candidate ids when they fit). Within a rank, repeats are merged
 * and order does not matter; empty ranks are passed over; a ranking with no mark is blank.
 * Marks live in one Int32Array under an open-addressing table, so a repeated ranking
 * allocates nothing and a distinct one costs its marks plus a few bytes.
 */
export class RankingMultiset {
  private marks = new Int32Array(1024);
  /** start[e] .. start[e + 1]: ranking e's marks. */
  private start = new Int32Array(65);
  private hashes = new Int32Array(64);
  private counts = new Float64Array(64);
  private distinct = 0;
  /** Entry index + 1 per slot, 0 when free; a power of two, at most half full. */
  private table = new Int32Array(128);
  private ballots = 0;
  private blankBallots = 0;
  /** Non-blank rankings held when the first blank one came (its place in groups()); -1 before. */
  private blankAt = -1;
  private topCode = 0;

  /** Every ballot added, blank ones included. */
  get total(): number {
    return this.ballots;
  }

  /** Ballots that mark no one. */
  get blank(): number {
    return this.blankBallots;
  }

  /** Distinct rankings held (the blank ranking included when one was added). */
  get size(): number {
    return this.distinct + (this.blankAt >= 0 ? 1 : 0);
  }

  /** Marks over all distinct rankings. */
  get units(): number {
    return this.start[this.distinct];
  }

  /** The largest code any ranking names (0 when none). */
  get largestCode(): number {
    return this.topCode;
  }

  add(ranks: readonly (readonly number[])[], count: number): void {
    const b = shared;
    b.clear(); // what a throwing add left
    for (const rank of ranks) {
      for (const c of rank) b.mark(c);
      b.endRank();
    }
    b.addTo(this, count);
  }

  /** Adds `count` ballots of the packed ranking marks[0 .. length) (as KeyBuilder makes it). */
  addMarks(marks: Int32Array, length: number, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new TallyInputError(`ballot count ${count} is not a whole number >= 0`);
    if (count === 0) return;
    this.ballots += count;
    if (!Number.isSafeInteger(this.ballots)) throw new TallyInputError("more ballots than can be counted exactly");
    if (length === 0) {
      if (this.blankAt < 0) this.blankAt = this.distinct;
      this.blankBallots += count;
      return;
    }
    let h = 0x811c9dc5 ^ length;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ marks[i], 0x01000193);
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot] - 1;
      if (e < 0) {
        this.table[slot] = this.insert(marks, length, count, h) + 1;
        if (this.distinct * 2 > this.table.length) this.rehash();
        return;
      }
      if (this.hashes[e] === h && this.sameAs(e, marks, length)) {
        this.counts[e] += count;
        return;
      }
    }
  }

  /**
   * The non-blank rankings in place, in order of first appearance, marks naming code - 1.
   * Views, not copies: read them before the next add.
   */
  packed(): PackedRankings {
    const n = this.distinct;
    return { rankings: n, start: this.start.subarray(0, n + 1), marks: this.marks.subarray(0, this.start[n]), count: this.counts.subarray(0, n) };
  }

  /** The rankings as ballot groups (ranks of codes), in order of first appearance. */
  groups(): { ranks: number[][]; count: number }[] {
    const out: { ranks: number[][]; count: number }[] = [];
    for (let e = 0; e <= this.distinct; e++) {
      if (e === this.blankAt) out.push({ ranks: [], count: this.blankBallots });
      if (e < this.distinct) out.push({ ranks: decodeMarks(this.marks, this.start[e], this.start[e + 1]), count: this.counts[e] });
    }
    return out;
  }

  /** The same ballots with the given codes passed over (e.g. withdrawn candidates). */
  without(codes: Iterable<number>): RankingMultiset {
    const drop = new Set(codes);
    const out = new RankingMultiset();
    for (const { ranks, count } of this.groups()) out.add(ranks.map((r) => r.filter((c) => !drop.has(c))), count);
    return out;
  }

  private sameAs(e: number, marks: Int32Array, length: number): boolean {
    const from = this.start[e];
    if (this.start[e + 1] - from !== length) return false;
    for (let i = 0; i < length; i++) if (this.marks[from + i] !== marks[i]) return false;
    return true;
  }

  private insert(marks: Int32Array, length: number, count: number, h: number): number {
    const used = this.start[this.distinct];
    if (used + length > this.marks.length) this.marks = grow(this.marks, used + length);
    if (this.distinct === this.counts.length) {
      this.start = grow(this.start, this.distinct + 2);
      this.hashes = grow(this.hashes, this.distinct + 1);
      this.counts = grow(this.counts, this.distinct + 1);
    }
    const e = this.distinct++;
    for (let i = 0; i < length; i++) {
      const m = marks[i];
      this.marks[used + i] = m;
      if ((m & CANDIDATE) >= this.topCode) this.topCode = (m & CANDIDATE) + 1;
    }
    this.start[e + 1] = used + length;
    this.hashes[e] = h;
    this.counts[e] = count;
    return e;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let e = 0; e < this.distinct; e++) {
      let slot = this.hashes[e] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = e + 1;
    }
    this.table = table;
  }
}

function grow<T extends Int32Array | Float64Array>(a: T, atLeast: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(Math.max(atLeast, a.length * 2));
  bigger.set(a);
  return bigger;
}

function checkCode(c: number): void {
  if (!Number.isInteger(c) || c < 1 || c > MAX_CODE) throw new TallyInputError(`candidate code ${c} is outside 1..${MAX_CODE}`);
}

/** Builds a packed ranking mark by mark without allocating; reused from one ranking to the next. */
export class KeyBuilder {
  private marks = new Int32Array(64);
  private length = 0;
  private rankStart = 0;

  mark(c: number): void {
    checkCode(c);
    const m = c - 1;
    // Repeats within a rank are one mark (flags are set only when the rank ends).
    for (let i = this.rankStart; i < this.length; i++) if (this.marks[i] === m) return;
    if (this.length === this.marks.length) this.marks = grow(this.marks, this.length + 1);
    this.marks[this.length++] = m;
  }

  endRank(): void {
    // An overvote's marks in ascending order, so that equal rankings pack alike; all but the last TIED.
    if (this.length - this.rankStart > 1) {
      this.marks.subarray(this.rankStart, this.length).sort();
      for (let i = this.rankStart; i < this.length - 1; i++) this.marks[i] |= TIED;
    }
    this.rankStart = this.length;
  }

  /** Adds the marks so far to `ms` as `count` ballots; the builder is then empty. */
  addTo(ms: RankingMultiset, count: number): void {
    this.endRank();
    const length = this.length;
    this.clear();
    ms.addMarks(this.marks, length, count);
  }

  clear(): void {
    this.length = 0;
    this.rankStart = 0;
  }
}

/** One builder for every add(): a typed array per call would cost more than the ranking. */
const shared = new KeyBuilder();

/** Packed marks[from .. to) as ranks of codes. */
export function decodeMarks(marks: Int32Array, from: number, to: number): number[][] {
  const ranks: number[][] = [];
  let rank: number[] = [];
  for (let i = from; i < to; i++) {
    rank.push((marks[i] & CANDIDATE) + 1);
    if ((marks[i] & TIED) === 0) {
      ranks.push(rank);
      rank = [];
    }
  }
  return ranks;
}
