// Counts of byte strings (a log's ballots by the bytes of their choices) without a string or
// an object per addition: an open-addressing table over one growing buffer of the distinct keys.

/** FNV-1a of b[from .. to). */
function hashOf(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

export class ByteMultiset {
  private keys = new Uint8Array(4096);
  private used = 0;
  /** Key e is keys[start[e] .. start[e + 1]). */
  private start = new Int32Array(65);
  private hashes = new Int32Array(64);
  private counts = new Float64Array(64);
  private distinct = 0;
  /** Key index + 1 per slot, 0 when free; a power of two, at most half full. */
  private table = new Int32Array(128);

  get size(): number {
    return this.distinct;
  }

  /** Adds one of b[from .. to). */
  add(b: Uint8Array, from: number, to: number): void {
    const h = hashOf(b, from, to);
    const { table, start, keys } = this;
    const mask = table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot] - 1;
      if (e < 0) {
        this.insert(b, from, to, h, slot);
        return;
      }
      if (this.hashes[e] === h && start[e + 1] - start[e] === to - from) {
        let same = true;
        for (let i = 0, at = start[e]; i < to - from; i++) if (keys[at + i] !== b[from + i]) same = false;
        if (same) {
          this.counts[e]++;
          return;
        }
      }
    }
  }

  /** Each distinct key (a copy) with its count, in the order first added. */
  *entries(): IterableIterator<[Uint8Array, number]> {
    for (let e = 0; e < this.distinct; e++) yield [this.keys.slice(this.start[e], this.start[e + 1]), this.counts[e]];
  }

  private insert(b: Uint8Array, from: number, to: number, h: number, slot: number): void {
    const e = this.distinct++;
    if (this.used + (to - from) > this.keys.length) this.keys = grown(this.keys, this.used + (to - from));
    this.keys.set(b.subarray(from, to), this.used);
    this.used += to - from;
    if (e === this.hashes.length) {
      this.hashes = grown(this.hashes, e + 1);
      this.counts = grown(this.counts, e + 1);
      this.start = grown(this.start, this.hashes.length + 1);
    }
    this.start[e + 1] = this.used;
    this.hashes[e] = h;
    this.counts[e] = 1;
    this.table[slot] = e + 1;
    if (2 * this.distinct > this.table.length) this.rehash();
  }

  private rehash(): void {
    const table = new Int32Array(2 * this.table.length);
    const mask = table.length - 1;
    for (let e = 0; e < this.distinct; e++) {
      let slot = this.hashes[e] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = e + 1;
    }
    this.table = table;
  }
}

function grown<T extends Uint8Array | Int32Array | Float64Array>(a: T, atLeast: number): T {
  const bigger = new (a.constructor as new (n: number) => T)(Math.max(2 * a.length, atLeast));
  bigger.set(a);
  return bigger;
}
