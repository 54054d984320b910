import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, leafHash, nodeHash, rootFromInclusionProof, rootFromLeafHashes, verifyConsistency, verifyInclusion } from "./merkle.js";
import { MemoryTree } from "./tree.js";

const h = (hex: string) => Buffer.from(hex, "hex");
const hexes = (bs: readonly Buffer[]) => bs.map((b) => b.toString("hex"));

// The reference tree of Certificate Transparency, as published in transparency-dev/merkle
// proof/verify_test.go (commit 02194e9a; the same data as google/certificate-transparency's
// merkle_tree_test): eight leaves, the roots of sizes 1..8, and known proofs.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(h);
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
// { leaf: 1-based leaf number, size, proof }
const INCLUSION = [
  { leaf: 1, size: 1, proof: [] },
  { leaf: 1, size: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { leaf: 6, size: 8, proof: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
  { leaf: 3, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  { leaf: 2, size: 5, proof: ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"] },
];
const CONSISTENCY = [
  { size1: 1, size2: 1, proof: [] },
  { size1: 1, size2: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { size1: 6, size2: 8, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
  { size1: 2, size2: 5, proof: ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"] },
  { size1: 6, size2: 7, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
];
const SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456");

function referenceTree(): MemoryTree {
  const t = new MemoryTree();
  for (const l of LEAVES) t.appendLeafHash(leafHash(l));
  return t;
}

const flip = (b: Buffer, bit: number) => {
  const c = Buffer.from(b);
  c[0] ^= 1 << bit;
  return c;
};

describe("RFC 9162 hashing", () => {
  // transparency-dev/merkle rfc6962/rfc6962_test.go.
  it("hashes the empty tree, leaves and nodes as the CT reference does", () => {
    expect(EMPTY_ROOT.toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(leafHash(Buffer.alloc(0)).toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    expect(leafHash(Buffer.from("L123456")).toString("hex")).toBe("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
    expect(nodeHash(Buffer.from("N123"), Buffer.from("N456")).toString("hex")).toBe("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
  });

  it("computes the published roots of sizes 1 to 8, from the definition and from stored subtrees", () => {
    const t = referenceTree();
    const leaves = LEAVES.map((l) => leafHash(l));
    for (let n = 1; n <= 8; n++) {
      expect(rootFromLeafHashes(leaves.slice(0, n)).toString("hex")).toBe(ROOTS[n - 1]);
      expect(t.root(n).toString("hex")).toBe(ROOTS[n - 1]);
    }
    expect(t.root(0)).toEqual(EMPTY_ROOT);
  });
});

describe("inclusion proofs on the reference tree", () => {
  it.each(INCLUSION)("when leaf $leaf of $size is proven, then the proof is the published one and verifies", ({ leaf, size, proof }) => {
    const t = referenceTree();
    const got = t.inclusionProof(leaf - 1, size);
    expect(hexes(got)).toEqual(proof);
    expect(verifyInclusion(leaf - 1, size, leafHash(LEAVES[leaf - 1]), got, h(ROOTS[size - 1]))).toBe(true);
  });

  // The corruptions of verify_test.go's corruptInclusionProof.
  it.each(INCLUSION.slice(1))("when anything about leaf $leaf of $size is altered, then verification fails", ({ leaf, size, proof }) => {
    const i = leaf - 1;
    const root = h(ROOTS[size - 1]);
    const lh = leafHash(LEAVES[i]);
    const p = proof.map(h);
    const probes: [number, number, Buffer, Buffer[], Buffer][] = [
      [i - 1, size, lh, p, root],
      [i + 1, size, lh, p, root],
      [i ^ 2, size, lh, p, root],
      [i, size * 2, lh, p, root],
      [i, Math.floor(size / 2), lh, p, root],
      [i, size, Buffer.from("WrongLeaf"), p, root],
      [i, size, flip(lh, 3), p, root],
      [i, size, lh, p, EMPTY_ROOT],
      [i, size, lh, p, SOME_HASH],
      [i, size, lh, [...p, Buffer.alloc(0)], root],
      [i, size, lh, [...p, root], root],
      [i, size, lh, [Buffer.alloc(0), ...p], root],
      [i, size, lh, [root, ...p], root],
      [i, size, lh, p.slice(0, -1), root],
      [i, size, lh, [p[0], SOME_HASH, ...p.slice(1)], root],
      ...p.map((_, k): [number, number, Buffer, Buffer[], Buffer] => [i, size, lh, p.map((x, j) => (j === k ? flip(x, 3) : x)), root]),
    ];
    for (const [index, sz, l, pr, r] of probes) {
      if (index < 0) continue;
      expect(verifyInclusion(index, sz, l, pr, r), `index ${index} size ${sz}`).toBe(false);
    }
  });

  it("when the index is outside the tree or hashes have the wrong length, then verification fails", () => {
    const lh = leafHash(Buffer.from("data"));
    expect(verifyInclusion(0, 1, lh, [], lh)).toBe(true);
    expect(verifyInclusion(0, 1, lh, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(0, 1, Buffer.alloc(0), [], Buffer.alloc(0))).toBe(false);
    for (const [index, size] of [[0, 0], [1, 0], [2, 1], [1, 1]]) {
      expect(verifyInclusion(index, size, SOME_HASH, [], EMPTY_ROOT)).toBe(false);
      expect(rootFromInclusionProof(index, size, SOME_HASH, [])).toBeUndefined();
    }
  });
});

describe("consistency proofs on the reference tree", () => {
  it.each(CONSISTENCY)("when $size1 is proven a prefix of $size2, then the proof is the published one and verifies", ({ size1, size2, proof }) => {
    const got = referenceTree().consistencyProof(size1, size2);
    expect(hexes(got)).toEqual(proof);
    expect(verifyConsistency(size1, size2, got, h(ROOTS[size1 - 1]), h(ROOTS[size2 - 1]))).toBe(true);
  });

  // The corruptions of verify_test.go's corruptConsistencyProof.
  it.each(CONSISTENCY.slice(1))("when anything about $size1 -> $size2 is altered, then verification fails", ({ size1, size2, proof }) => {
    const r1 = h(ROOTS[size1 - 1]);
    const r2 = h(ROOTS[size2 - 1]);
    const p = proof.map(h);
    const probes: [number, number, Buffer[], Buffer, Buffer][] = [
      [size1 - 1, size2, p, r1, r2],
      [size1 + 1, size2, p, r1, r2],
      [size1 ^ 2, size2, p, r1, r2],
      [size1, size2 * 2, p, r1, r2],
      [size1, Math.floor(size2 / 2), p, r1, r2],
      [size1, size2, p, Buffer.from("WrongRoot"), r2],
      [size1, size2, p, r1, Buffer.from("WrongRoot")],
      [size1, size2, p, r2, r1],
      [size1, size2, [], r1, r2],
      [size1, size2, [...p, Buffer.alloc(0)], r1, r2],
      [size1, size2, [...p, r1], r1, r2],
      [size1, size2, [...p, r2], r1, r2],
      [size1, size2, [Buffer.alloc(0), ...p], r1, r2],
      [size1, size2, [r1, ...p], r1, r2],
      [size1, size2, [r2, ...p], r1, r2],
      [size1, size2, [p[0], ...p], r1, r2],
      [size1, size2, p.slice(0, -1), r1, r2],
      ...p.map((_, k): [number, number, Buffer[], Buffer, Buffer] => [size1, size2, p.map((x, j) => (j === k ? flip(x, 4) : x)), r1, r2]),
    ];
    for (const [s1, s2, pr, a, b] of probes) expect(verifyConsistency(s1, s2, pr, a, b), `${s1} -> ${s2}`).toBe(false);
  });

  // verify_test.go TestVerifyConsistency's trivial cases.
  it("when sizes are equal or the first tree is empty, then only an empty proof with matching roots verifies", () => {
    const r1 = referenceTree().root(1);
    const r2 = referenceTree().root(2);
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(verifyConsistency(0, 1, [], EMPTY_ROOT, r1)).toBe(true);
    expect(verifyConsistency(1, 1, [], r2, r2)).toBe(true);
    expect(verifyConsistency(1, 1, [], r1, r2)).toBe(false);
    expect(verifyConsistency(1, 0, [], r1, r2)).toBe(false);
    expect(verifyConsistency(2, 1, [], r1, r2)).toBe(false);
    expect(verifyConsistency(1, 2, [], r1, r2)).toBe(false);
    expect(verifyConsistency(0, 0, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toBe(false);
    expect(verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toBe(false);
    expect(verifyConsistency(1, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toBe(false);
  });
});

describe("MemoryTree.appendLeafHashes", () => {
  it("when leaf hashes are appended side by side, then every root is the one of appending them one by one", () => {
    const leaves = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    const one = new MemoryTree();
    const many = new MemoryTree();
    for (const l of leaves) one.appendLeafHash(l);
    many.appendLeafHashes(Buffer.concat(leaves.slice(0, 5)));
    many.appendLeafHashes(Buffer.alloc(0));
    many.appendLeafHashes(Buffer.concat(leaves.slice(5)));
    expect(many.size).toBe(37);
    for (let size = 0; size <= 37; size++) expect(many.root(size)).toEqual(one.root(size));
    expect(() => many.appendLeafHashes(Buffer.alloc(33))).toThrow("32 bytes each");
  });
});
