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
 */
export class RankingMultiset {
  private readonly counts = new Map<string, number>();
  private ballots = 0;

  /** Every ballot added, blank ones included. */
  get total(): number {
    return this.ballots;
  }

  /** Distinct rankings held (the blank ranking included when one was added). */
  get size(): number {
    return this.counts.size;
  }

  add(ranks: readonly (readonly number[])[], count: number): void {
    this.addKey(rankingKey(ranks), count);
  }

  /** Adds `count` ballots of a ranking already encoded by rankingKey (or KeyBuilder). */
  addKey(key: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new TallyInputError(`ballot count ${count} is not a whole number >= 0`);
    if (count === 0) return;
    this.ballots += count;
    if (!Number.isSafeInteger(this.ballots)) throw new TallyInputError("more ballots than can be counted exactly");
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  }

  /** [key, count] pairs, in order of first appearance. */
  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  /** The rankings as ballot groups (ranks of codes), in order of first appearance. */
  *groups(): IterableIterator<{ ranks: number[][]; count: number }> {
    for (const [key, count] of this.counts) yield { ranks: decodeKey(key), count };
  }

  /** The same ballots with the given codes passed over (e.g. withdrawn candidates). */
  without(codes: Iterable<number>): RankingMultiset {
    const drop = new Set(codes);
    const out = new RankingMultiset();
    for (const [key, count] of this.counts) out.addKey(rankingKey(decodeKey(key).map((r) => r.filter((c) => !drop.has(c)))), count);
    return out;
  }
}

function checkCode(c: number): void {
  if (!Number.isInteger(c) || c < 1 || c > MAX_CODE) throw new TallyInputError(`candidate code ${c} is outside 1..${MAX_CODE}`);
}

/** The key of a ranking over codes. */
export function rankingKey(ranks: readonly (readonly number[])[]): string {
  const b = new KeyBuilder();
  for (const rank of ranks) {
    for (const c of rank) b.mark(c);
    b.endRank();
  }
  return b.take();
}

/** Builds a key mark by mark without allocating per mark; reused from one ranking to the next. */
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

  /** The key of the marks so far; the builder is then empty. */
  take(): string {
    const key = this.length === 0 ? "" : String.fromCharCode.apply(null, this.units.subarray(0, this.length) as unknown as number[]);
    this.length = 0;
    this.rankStart = 0;
    return key;
  }
}

export function decodeKey(key: string): number[][] {
  const ranks: number[][] = [];
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === TIE) ranks[ranks.length - 1].push(key.charCodeAt(++i));
    else ranks.push([c]);
  }
  return ranks;
}
export const TIE_UNIT = TIE;
