// Proof generation against RFC 9162's recursive definitions, and fast-check properties on
// random tree sizes (1 to 10,000) and indices.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { leafHash, nodeHash, rootFromLeafHashes, splitPoint, verifyConsistency, verifyInclusion } from "./merkle.js";
import { consistencyPlan, consistencyProofFrom, frontierNodes, inclusionPlan, inclusionProofFrom } from "./proofs.js";
import { CompactRange, MemoryTree } from "./tree.js";

// RFC 9162 2.1.3.1 PATH and 2.1.4.1 PROOF/SUBPROOF, literally, over a list of leaf hashes.
const MTH = rootFromLeafHashes;
function PATH(m: number, d: Buffer[]): Buffer[] {
  if (d.length <= 1) return [];
  const k = splitPoint(d.length);
  return m < k ? [...PATH(m, d.slice(0, k)), MTH(d.slice(k))] : [...PATH(m - k, d.slice(k)), MTH(d.slice(0, k))];
}
function SUBPROOF(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [MTH(d)];
  const k = splitPoint(d.length);
  return m <= k ? [...SUBPROOF(m, d.slice(0, k), b), MTH(d.slice(k))] : [...SUBPROOF(m - k, d.slice(k), false), MTH(d.slice(0, k))];
}

const MAX = 10_000;
const leaves: Buffer[] = [];
const tree = new MemoryTree();
beforeAll(() => {
  for (let i = 0; i < MAX; i++) {
    const l = leafHash(Buffer.from(`entry ${i}\n`));
    leaves.push(l);
    tree.appendLeafHash(l);
  }
});

const flipByte = (b: Buffer, at: number) => {
  const c = Buffer.from(b);
  c[at % c.length] ^= 0x01;
  return c;
};

describe("proof generation from stored subtrees", () => {
  it("when every index and size up to 33 is proven, then the proofs are RFC 9162's PATH and PROOF exactly", () => {
    for (let n = 1; n <= 33; n++) {
      const d = leaves.slice(0, n);
      expect(tree.root(n)).toEqual(MTH(d));
      for (let m = 0; m < n; m++) expect(tree.inclusionProof(m, n)).toEqual(PATH(m, d));
      for (let m = 1; m < n; m++) expect(tree.consistencyProof(m, n)).toEqual(SUBPROOF(m, d, true));
    }
  });

  it("when a tree grows one leaf at a time, then its root after each append is MTH of the leaves so far and the compact range's", () => {
    const growing = new MemoryTree();
    const range = new CompactRange();
    expect(growing.root()).toEqual(MTH([]));
    for (let n = 1; n <= 70; n++) {
      growing.appendLeafHash(leaves[n - 1]);
      range.append(leaves[n - 1]);
      expect(growing.size).toBe(n);
      expect(growing.root()).toEqual(MTH(leaves.slice(0, n)));
      expect(growing.root()).toEqual(range.root());
    }
    expect(() => growing.appendLeafHash(Buffer.alloc(31))).toThrow("a leaf hash is 32 bytes");
  });

  it("when a compact range is restored from stored subtrees, then it continues to the same roots", () => {
    const range = CompactRange.restore(1000, tree.get);
    expect(range.root()).toEqual(tree.root(1000));
    for (let i = 1000; i < 1100; i++) range.append(leaves[i]);
    expect(range.root()).toEqual(tree.root(1100));
  });

  it("when a leaf is appended, then it emits the leaf and each subtree it completes", () => {
    const range = new CompactRange();
    for (let i = 0; i < 7; i++) range.append(leaves[i]);
    const emitted = range.append(leaves[7]);
    expect(emitted.map((n) => [n.level, n.index])).toEqual([[0, 7], [1, 3], [2, 1], [3, 0]]);
    expect(emitted[3].hash).toEqual(MTH(leaves.slice(0, 8)));
    expect(emitted[1].hash).toEqual(nodeHash(leaves[6], leaves[7]));
  });

  it("when a proof is planned for a 1,000,000-leaf log, then it needs O(log n) stored subtrees", () => {
    const n = 1_000_000;
    expect(frontierNodes(n)).toHaveLength(7); // popcount(1,000,000)
    for (const index of [0, 1, 499_999, 524_288, 999_999]) {
      const plan = inclusionPlan(index, n);
      expect(plan.elements.length).toBeLessThanOrEqual(20);
      expect(plan.nodes.length).toBeLessThanOrEqual(40);
    }
    for (const m of [1, 3, 65_536, 999_999]) expect(consistencyPlan(m, n).nodes.length).toBeLessThanOrEqual(60);
  });

  it("when a store is read asynchronously in one batch, then the proofs are the same", async () => {
    let reads = 0;
    const read = async (nodes: readonly { level: number; index: number }[]) => {
      reads++;
      return nodes.map((n) => tree.get(n.level, n.index));
    };
    expect(await inclusionProofFrom(1234, 5000, read)).toEqual(tree.inclusionProof(1234, 5000));
    expect(await consistencyProofFrom(777, 5000, read)).toEqual(tree.consistencyProof(777, 5000));
    expect(reads).toBe(2);
  });

  it("when a proof is asked for an index or size outside the tree, then it throws", () => {
    expect(() => tree.inclusionProof(5, 5)).toThrow(RangeError);
    expect(() => tree.consistencyProof(6, 5)).toThrow(RangeError);
    expect(() => tree.root(MAX + 1)).toThrow(RangeError);
  });
});

describe("properties on random trees of 1 to 10,000 leaves", () => {
  const sizeAndIndex = fc.integer({ min: 1, max: MAX }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
  // Rebuilding a forged tree per run costs, so this one stays below 3,000 leaves.
  const smallTwoSizes = fc.integer({ min: 2, max: 3000 }).chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 - 1 }), fc.constant(size2)));
  const twoSizes = fc.integer({ min: 1, max: MAX }).chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

  it("every generated inclusion proof verifies against the root of its size", () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        expect(verifyInclusion(index, size, leaves[index], tree.inclusionProof(index, size), tree.root(size))).toBe(true);
      }),
    );
  });

  it("an inclusion proof fails for another leaf, index or size, or with any proof hash altered, dropped or added", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.integer({ min: 1, max: MAX }), fc.nat(31), ([size, index], pick, otherSize, at) => {
        const proof = tree.inclusionProof(index, size);
        const root = tree.root(size);
        expect(verifyInclusion(index, size, flipByte(leaves[index], at), proof, root)).toBe(false);
        if (size > 1) {
          const other = (index + 1 + (pick % (size - 1))) % size;
          expect(verifyInclusion(index, size, leaves[other], proof, root)).toBe(false);
          expect(verifyInclusion(other, size, leaves[index], proof, root)).toBe(false);
          const k = pick % proof.length;
          expect(verifyInclusion(index, size, leaves[index], proof.map((p, j) => (j === k ? flipByte(p, at) : p)), root)).toBe(false);
          expect(verifyInclusion(index, size, leaves[index], proof.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(index, size, leaves[index], [...proof, root], root)).toBe(false);
        if (otherSize !== size && index < otherSize) expect(verifyInclusion(index, otherSize, leaves[index], proof, tree.root(otherSize))).toBe(false);
      }),
    );
  });

  it("every generated consistency proof verifies between the roots of its sizes", () => {
    fc.assert(
      fc.property(twoSizes, ([size1, size2]) => {
        expect(verifyConsistency(size1, size2, tree.consistencyProof(size1, size2), tree.root(size1), tree.root(size2))).toBe(true);
      }),
    );
  });

  it("a consistency proof fails for other roots or sizes, or with any proof hash altered, dropped or added", () => {
    fc.assert(
      fc.property(twoSizes, fc.nat(), fc.integer({ min: 1, max: MAX }), fc.nat(31), ([size1, size2], pick, other, at) => {
        const proof = tree.consistencyProof(size1, size2);
        const [r1, r2] = [tree.root(size1), tree.root(size2)];
        expect(verifyConsistency(size1, size2, proof, flipByte(r1, at), r2)).toBe(false);
        expect(verifyConsistency(size1, size2, proof, r1, flipByte(r2, at))).toBe(false);
        expect(verifyConsistency(size1, size2, [...proof, r2], r1, r2)).toBe(false);
        if (proof.length > 0) {
          const k = pick % proof.length;
          expect(verifyConsistency(size1, size2, proof.map((p, j) => (j === k ? flipByte(p, at) : p)), r1, r2)).toBe(false);
          expect(verifyConsistency(size1, size2, proof.slice(0, -1), r1, r2)).toBe(false);
        }
        if (other !== size1 && other <= size2) expect(verifyConsistency(other, size2, proof, tree.root(other), r2)).toBe(false);
        if (other !== size2 && other >= size1) expect(verifyConsistency(size1, other, proof, r1, tree.root(other))).toBe(false);
      }),
    );
  });

  it("a rewritten leaf below the first size makes every consistency proof to a later tree fail", () => {
    fc.assert(
      fc.property(smallTwoSizes, fc.nat(), ([size1, size2], pick) => {
        // The operator rewrites one early leaf and rebuilds the tree of size2.
        const forged = new MemoryTree();
        const victim = pick % size1;
        for (let i = 0; i < size2; i++) forged.appendLeafHash(i === victim ? leafHash(Buffer.from("rewritten\n")) : leaves[i]);
        expect(verifyConsistency(size1, size2, forged.consistencyProof(size1, size2), tree.root(size1), forged.root(size2))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
