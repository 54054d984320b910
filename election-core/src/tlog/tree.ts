// Appending to a log tree: the compact range (right frontier) of [0, size) and the complete
// subtrees each append completes. A server keeps the frontier (at most log2(n) + 1 hashes) and
// persists every emitted node; an append costs one leaf hash plus, on average, one node hash.
import { EMPTY_ROOT, HASH_SIZE, checkSize, nodeHash, nodeHashInto } from "./merkle.js";
import { consistencyProof, foldRange, frontierNodes, inclusionProof, rootAt, type NodeId, type SubtreeHashes } from "./proofs.js";

/** A complete subtree and its hash, as emitted by an append. */
export interface StoredNode extends NodeId {
  hash: Buffer;
}

/** The right frontier of the tree of leaves [0, size): one complete subtree per set bit of size. */
export class CompactRange {
  private readonly levels: number[] = [];
  private readonly hashes: Buffer[] = [];
  private count = 0;

  /** Restores the frontier of `size` leaves from stored subtrees (see frontierNodes). */
  static restore(size: number, get: SubtreeHashes): CompactRange {
    const r = new CompactRange();
    for (const n of frontierNodes(size)) {
      const h = get(n.level, n.index);
      if (h.length !== HASH_SIZE) throw new Error(`stored node ${n.level}/${n.index} is not ${HASH_SIZE} bytes`);
      r.levels.push(n.level);
      r.hashes.push(Buffer.from(h));
    }
    r.count = size;
    return r;
  }

  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash; returns the complete subtrees it completes, the leaf first. */
  append(leaf: Uint8Array): StoredNode[] {
    if (leaf.length !== HASH_SIZE) throw new Error(`a leaf hash is ${HASH_SIZE} bytes`);
    const index = this.count;
    let level = 0;
    let hash: Buffer = Buffer.from(leaf);
    const out: StoredNode[] = [{ level, index, hash }];
    while (this.levels.length > 0 && this.levels[this.levels.length - 1] === level) {
      this.levels.pop();
      hash = nodeHash(this.hashes.pop()!, hash);
      level++;
      out.push({ level, index: Math.floor(index / 2 ** level), hash });
    }
    this.levels.push(level);
    this.hashes.push(hash);
    this.count++;
    return out;
  }

  /** MTH of the leaves so far. */
  root(): Buffer {
    return this.count === 0 ? EMPTY_ROOT : foldRange(this.hashes);
  }
}

/**
 * A whole tree in memory: per level, the complete subtree hashes side by side in one buffer
 * (about 2n hashes for n leaves; a million-entry audit keeps 64 MB in a few dozen objects
 * rather than two million for the garbage collector to walk). For tests and clients; a server
 * stores the same nodes in its database instead.
 */
export class MemoryTree {
  private readonly levels: { hashes: Buffer; count: number }[] = [];
  private leaves = 0;

  /** The stored-subtree reader that proofs and roots take. */
  readonly get: SubtreeHashes = (level, index) => {
    const l = this.levels[level];
    if (!l || !Number.isInteger(index) || index < 0 || index >= l.count) throw new RangeError(`no complete subtree ${level}/${index} in a tree of ${this.size} leaves`);
    return l.hashes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  };

  get size(): number {
    return this.leaves;
  }

  appendLeafHash(leaf: Uint8Array): void {
    if (leaf.length !== HASH_SIZE) throw new Error(`a leaf hash is ${HASH_SIZE} bytes`);
    this.appendAt(leaf, 0);
  }

  /** Appends the leaf hashes side by side in `leaves` (32 bytes each). */
  appendLeafHashes(leaves: Uint8Array): void {
    if (leaves.length % HASH_SIZE !== 0) throw new Error(`leaf hashes are ${HASH_SIZE} bytes each`);
    const n = leaves.length / HASH_SIZE;
    if (n === 0) return;
    // The leaves in one copy, then the subtrees they complete.
    const l = this.withRoom(0, n);
    l.hashes.set(leaves, l.count * HASH_SIZE);
    for (let i = 0; i < n; i++) this.completeFrom(l);
  }

  private appendAt(leaves: Uint8Array, from: number): void {
    const l = this.withRoom(0);
    const to = l.count * HASH_SIZE;
    for (let i = 0; i < HASH_SIZE; i++) l.hashes[to + i] = leaves[from + i];
    this.completeFrom(l);
  }

  /** Counts the leaf just written at level 0's end, and hashes the subtrees it completes. */
  private completeFrom(level0: { hashes: Buffer; count: number }): void {
    let l = level0;
    l.count++;
    // Each level completes its subtrees left to right: a right child completes its parent,
    // the next subtree of the level above, from the two last hashes of its own level.
    for (let level = 1; l.count % 2 === 0; level++) {
      const up = this.withRoom(level);
      nodeHashInto(l.hashes, (l.count - 2) * HASH_SIZE, up.hashes, up.count++ * HASH_SIZE);
      l = up;
    }
    this.leaves++;
  }

  /** The level, with room for `more` hashes. */
  private withRoom(level: number, more = 1): { hashes: Buffer; count: number } {
    let l = this.levels[level];
    if (!l) this.levels[level] = l = { hashes: Buffer.allocUnsafe(1024 * HASH_SIZE), count: 0 };
    if ((l.count + more) * HASH_SIZE > l.hashes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(l.hashes.length * 2, (l.count + more) * HASH_SIZE));
      l.hashes.copy(bigger);
      l.hashes = bigger;
    }
    return l;
  }

  /** MTH of the first `size` leaves (default: all). */
  root(size = this.size): Buffer {
    this.checkWithin(size);
    return rootAt(size, this.get);
  }

  inclusionProof(index: number, size = this.size): Buffer[] {
    this.checkWithin(size);
    return inclusionProof(index, size, this.get);
  }

  consistencyProof(size1: number, size2 = this.size): Buffer[] {
    this.checkWithin(size2);
    return consistencyProof(size1, size2, this.get);
  }

  private checkWithin(size: number): void {
    checkSize("size", size);
    if (size > this.size) throw new RangeError(`the tree has ${this.size} leaves, not ${size}`);
  }
}
