// The multiset of distinct rankings: what a million ballots reduce to. Each ranking is one
// short string key (a char code per mark), so memory grows with the distinct rankings, not
// with the ballots; the BLT reader fills one straight from the file.
import { TallyInputError } from "./ballots.js";

/** Largest candidate code a key can hold: one UTF-16 code unit, 0 being the tie marker. */
export const MAX_CODE = 0xffff;
/** In a key, this code unit says the next mark shares the previous mark's rank (an overvote). */
const TIE = 0;

/**
 * Distinct rankings with their counts. Rankings name candidates by code, 1 to 65535 (a BLT
 * file's candidate numbers, or candidate ids when they fit). Within a rank, repeats are merged
 * and order does not matter; empty ranks are passed over; a ranking with no mark is blank.
 * Keys live in one Uint16Array and an open-addressing table, so a repeated ranking allocates
 * nothing and a distinct one costs its marks plus a few bytes.
 */
export class RankingMultiset {
  private arena = new Uint16Array(1024);
  private used = 0;
  private start = new Int32Array(64);
  private hashes = new Int32Array(64);
  private counts = new Float64Array(64);
  private distinct = 0;
  /** Entry index + 1 per slot, 0 when free; a power of two, at most half full. */
  private table = new Int32Array(128);
  private ballots = 0;

  /** Every ballot added, blank ones included. */
  get total(): number {
    return this.ballots;
  }

  /** Distinct rankings held (the blank ranking included when one was added). */
  get size(): number {
    return this.distinct;
  }

  /** Marks over all distinct rankings (code units of their keys). */
  get units(): number {
    return this.used;
  }

  add(ranks: readonly (readonly number[])[], count: number): void {
    const b = new KeyBuilder();
    for (const rank of ranks) {
      for (const c of rank) b.mark(c);
      b.endRank();
    }
    b.addTo(this, count);
  }

  /** Adds `count` ballots of the ranking units[0 .. length). */
  addUnits(units: Uint16Array, length: number, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new TallyInputError(`ballot count ${count} is not a whole number >= 0`);
    if (count === 0) return;
    this.ballots += count;
    if (!Number.isSafeInteger(this.ballots)) throw new TallyInputError("more ballots than can be counted exactly");
    let h = 0x811c9dc5 ^ length;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ units[i], 0x01000193);
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.table[slot] - 1;
      if (e < 0) {
        this.table[slot] = this.insert(units, length, count, h) + 1;
        if (this.distinct * 2 > this.table.length) this.rehash();
        return;
      }
      if (this.hashes[e] === h && this.sameAs(e, units, length)) {
        this.counts[e] += count;
        return;
      }
    }
  }

  /** Calls fn for each distinct ranking, in order of first appearance; its units are arena[from .. to). */
  each(fn: (arena: Uint16Array, from: number, to: number, count: number) => void): void {
    for (let e = 0; e < this.distinct; e++) fn(this.arena, this.start[e], e + 1 < this.distinct ? this.start[e + 1] : this.used, this.counts[e]);
  }

  /** The rankings as ballot groups (ranks of codes), in order of first appearance. */
  groups(): { ranks: number[][]; count: number }[] {
    const out: { ranks: number[][]; count: number }[] = [];
    this.each((arena, from, to, count) => out.push({ ranks: decodeUnits(arena, from, to), count }));
    return out;
  }

  /** The same ballots with the given codes passed over (e.g. withdrawn candidates). */
  without(codes: Iterable<number>): RankingMultiset {
    const drop = new Set(codes);
    const out = new RankingMultiset();
    for (const { ranks, count } of this.groups()) out.add(ranks.map((r) => r.filter((c) => !drop.has(c))), count);
    return out;
  }

  private sameAs(e: number, units: Uint16Array, length: number): boolean {
    const from = this.start[e];
    const to = e + 1 < this.distinct ? this.start[e + 1] : this.used;
    if (to - from !== length) return false;
    for (let i = 0; i < length; i++) if (this.arena[from + i] !== units[i]) return false;
    return true;
  }

  private insert(units: Uint16Array, length: number, count: number, h: number): number {
    if (this.used + length > this.arena.length) this.arena = grow(this.arena, this.used + length);
    if (this.distinct === this.start.length) {
      this.start = grow(this.start, this.distinct + 1);
      this.hashes = grow(this.hashes, this.distinct + 1);
      this.counts = grow(this.counts, this.distinct + 1);
    }
    const e = this.distinct++;
    this.arena.set(units.subarray(0, length), this.used);
    this.start[e] = this.used;
    this.used += length;
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

function grow<T extends Uint16Array | Int32Array | Float64Array>(a: T, atLeast: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(Math.max(atLeast, a.length * 2));
  bigger.set(a);
  return bigger;
}

function checkCode(c: number): void {
  if (!Number.isInteger(c) || c < 1 || c > MAX_CODE) throw new TallyInputError(`candidate code ${c} is outside 1..${MAX_CODE}`);
}

/** Builds a ranking's key mark by mark without allocating; reused from one ranking to the next. */
export class KeyBuilder {
  private units = new Uint16Array(64);
  private length = 0;
  private rankStart = 0;

  mark(c: number): void {
    checkCode(c);
    // Repeats within a rank are one mark.
    for (let i = this.rankStart; i < this.length; i++) if (this.units[i] === c) return;
    if (this.length + 2 > this.units.length) {
      const bigger = new Uint16Array(this.units.length * 2);
      bigger.set(this.units);
      this.units = bigger;
    }
    if (this.length > this.rankStart) this.units[this.length++] = TIE;
    this.units[this.length++] = c;
  }

  endRank(): void {
    const n = this.length - this.rankStart;
    // An overvote's marks in ascending order, so that equal rankings get one key.
    if (n > 1) {
      const marks = this.units.filter((_, i) => i >= this.rankStart && i < this.length && (i - this.rankStart) % 2 === 0).sort();
      marks.forEach((c, k) => {
        this.units[this.rankStart + 2 * k] = c;
      });
    }
    this.rankStart = this.length;
  }

  /** Adds the marks so far to `ms` as `count` ballots; the builder is then empty. */
  addTo(ms: RankingMultiset, count: number): void {
    const length = this.length;
    this.clear();
    ms.addUnits(this.units, length, count);
  }

  clear(): void {
    this.length = 0;
    this.rankStart = 0;
  }
}

/** A key's units as ranks of codes. */
export function decodeUnits(units: Uint16Array, from: number, to: number): number[][] {
  const ranks: number[][] = [];
  for (let i = from; i < to; i++) {
    const c = units[i];
    if (c === TIE) ranks[ranks.length - 1].push(units[++i]);
    else ranks.push([c]);
  }
  return ranks;
}

export const TIE_UNIT = TIE;
