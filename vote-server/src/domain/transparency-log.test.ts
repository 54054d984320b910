// BatchTree, the Merkle tree part of a commit: batches appended onto the frontier stored by the
// ones before give the same root as one tree of every leaf, and inclusion paths that verify.
import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { CompactRange, frontierNodes, leafHash, verifyInclusion, type StoredNode } from "@voting/election-core";
import { BatchTree } from "./transparency-log.js";

const leaf = (i: number) => leafHash(createHash("sha256").update(`entry ${i}`).digest());

describe("BatchTree", () => {
  it("batches of uneven sizes across powers of two: the root of all leaves, and every new leaf proven against it", () => {
    const stored = new Map<string, Buffer>();
    const all = new CompactRange();
    let size = 0;
    for (const batch of [1, 1, 2, 5, 8, 17, 30, 64, 1, 127]) {
      const frontier: StoredNode[] = frontierNodes(size).map((n) => ({ ...n, hash: stored.get(`${n.level}/${n.index}`)! }));
      const tree = new BatchTree(size, frontier);
      const first = size;
      for (let k = 0; k < batch; k++) {
        size += 1;
        expect(tree.appendLeafHash(size, leaf(size))).toBe(size - 1);
        all.append(leaf(size));
      }
      for (const n of tree.nodes) stored.set(`${n.level}/${n.index}`, n.hash);
      expect(tree.root().equals(all.root())).toBe(true);
      for (let i = first; i < size; i++) expect(verifyInclusion(i, size, leaf(i + 1), tree.inclusionPath(i), tree.root())).toBe(true);
    }
    expect(size).toBe(256);
  });
});
