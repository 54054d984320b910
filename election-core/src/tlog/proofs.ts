// Proof generation from stored complete subtrees. A complete subtree (level, index) covers
// leaves [index * 2^level, (index + 1) * 2^level); every hash a proof needs is one such subtree
// or the right fold of a few of them, so a server never loads more than O(log n) hashes.
// Generation is split in a plan (which subtrees, pure) and a resolve step (fold the hashes),
// so a repository can fetch all the subtrees of a proof in one query.
import { checkSize, EMPTY_ROOT, nodeHash, splitPoint } from "./merkle.js";

/** A complete subtree: leaves [index * 2^level, (index + 1) * 2^level). Level 0 is a leaf hash. */
export interface NodeId {
  level: number;
  index: number;
}

/** Returns the stored hash of a complete subtree; must exist for every subtree inside the tree. */
export type SubtreeHashes = (level: number, index: number) => Uint8Array;

/**
 * What a proof needs: `nodes` to fetch (no duplicates), and for each proof element the range
 * [start, end) of `nodes` whose right fold is that element.
 */
export interface ProofPlan {
  nodes: NodeId[];
  elements: { start: number; end: number }[];
}

/** The complete subtrees that make up leaves [start, end), largest first (binary digits of end - start). */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (size * 2 <= end - at && at % (size * 2) === 0) {
      size *= 2;
      level++;
    }
    out.push({ level, index: at / size });
    at += size;
  }
  return out;
}

/** The frontier of a tree of `size` leaves: the complete subtrees whose right fold is its root. */
export function frontierNodes(size: number): NodeId[] {
  checkSize("size", size);
  return rangeNodes(0, size);
}

class PlanBuilder {
  readonly plan: ProofPlan = { nodes: [], elements: [] };
  /** Adds one proof element: MTH of leaves [start, end), where start is aligned for end - start. */
  range(start: number, end: number): void {
    const ids = rangeNodes(start, end);
    this.plan.elements.push({ start: this.plan.nodes.length, end: this.plan.nodes.length + ids.length });
    this.plan.nodes.push(...ids);
  }
}

/** PATH(index, D[size]) of RFC 9162 2.1.3.1, as a plan. */
export function inclusionPlan(index: number, size: number): ProofPlan {
  checkSize("index", index);
  checkSize("size", size);
  if (index >= size) throw new RangeError(`index ${index} is not in a tree of ${size} leaves`);
  const b = new PlanBuilder();
  // path(m, [lo, hi)) = path(m', child) : MTH(sibling); elements are listed bottom-up.
  const walk = (m: number, lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m < k) {
      walk(m, lo, lo + k);
      b.range(lo + k, hi);
    } else {
      walk(m - k, lo + k, hi);
      b.range(lo, lo + k);
    }
  };
  walk(index, 0, size);
  return b.plan;
}

/** PROOF(size1, D[size2]) of RFC 9162 2.1.4.1, as a plan; empty for size1 = 0 or size1 = size2. */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  checkSize("size1", size1);
  checkSize("size2", size2);
  if (size1 > size2) throw new RangeError(`size ${size1} is larger than ${size2}`);
  const b = new PlanBuilder();
  if (size1 === 0 || size1 === size2) return b.plan;
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    if (m === hi - lo) {
      if (!whole) b.range(lo, hi);
      return;
    }
    const k = splitPoint(hi - lo);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      b.range(lo + k, hi);
    } else {
      sub(m - k, lo + k, hi, false);
      b.range(lo, lo + k);
    }
  };
  sub(size1, 0, size2, true);
  return b.plan;
}

/** Right fold of complete subtree hashes: MTH of the range they cover together. */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let r: Buffer = Buffer.from(hashes[hashes.length - 1]);
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i], r);
  return r;
}

/** Turns a plan and the hashes of its nodes (same order) into the proof. */
export function resolvePlan(plan: ProofPlan, hashes: readonly Uint8Array[]): Buffer[] {
  if (hashes.length !== plan.nodes.length) throw new Error(`the plan needs ${plan.nodes.length} hashes, got ${hashes.length}`);
  return plan.elements.map((e) => foldRange(hashes.slice(e.start, e.end)));
}

const fetchAll = (nodes: readonly NodeId[], get: SubtreeHashes) => nodes.map((n) => get(n.level, n.index));

/** The inclusion proof of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(index: number, size: number, get: SubtreeHashes): Buffer[] {
  const plan = inclusionPlan(index, size);
  return resolvePlan(plan, fetchAll(plan.nodes, get));
}

/** The consistency proof from the tree of size1 leaves to the tree of size2 leaves. */
export function consistencyProof(size1: number, size2: number, get: SubtreeHashes): Buffer[] {
  const plan = consistencyPlan(size1, size2);
  return resolvePlan(plan, fetchAll(plan.nodes, get));
}

/** MTH of the first `size` leaves, from the stored frontier (at most log2(size) + 1 hashes). */
export function rootAt(size: number, get: SubtreeHashes): Buffer {
  return foldRange(fetchAll(frontierNodes(size), get));
}

/** Reads the hashes of many complete subtrees at once (one query), in the order asked. */
export type SubtreeBatch = (nodes: readonly NodeId[]) => Promise<readonly Uint8Array[]>;

/** inclusionProof for an asynchronous store: one batch read. */
export async function inclusionProofFrom(index: number, size: number, read: SubtreeBatch): Promise<Buffer[]> {
  const plan = inclusionPlan(index, size);
  return resolvePlan(plan, await read(plan.nodes));
}

/** consistencyProof for an asynchronous store: one batch read. */
export async function consistencyProofFrom(size1: number, size2: number, read: SubtreeBatch): Promise<Buffer[]> {
  const plan = consistencyPlan(size1, size2);
  return resolvePlan(plan, await read(plan.nodes));
}
