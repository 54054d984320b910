// RFC 9162 section 2.1 Merkle tree hashing and the verification algorithms of sections
// 2.1.3.2 (inclusion) and 2.1.4.2 (consistency). Sizes and indices are plain numbers and the
// bit steps use arithmetic, not 32-bit operators, so they stay exact up to 2^53.
import { createHash, hash as sha256Once, timingSafeEqual } from "node:crypto";
import { sha256Into } from "../sha256.js";

export const HASH_SIZE = 32;

// An audit hashes a million leaves and their nodes: each input is written into one reused
// buffer and hashed in one call rather than fed to a fresh Hash object piece by piece.
let scratch = Buffer.allocUnsafe(512);
const room = (bytes: number) => {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(bytes * 2);
  return scratch;
};

/** Hash of a leaf: SHA-256(0x00 || leaf bytes). */
export function leafHash(leaf: Uint8Array): Buffer {
  const b = room(1 + leaf.length);
  b[0] = 0;
  b.set(leaf, 1);
  return sha256Once("sha256", b.subarray(0, 1 + leaf.length), "buffer");
}

/** Hash of an interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const n = 1 + left.length + right.length;
  const b = room(n);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256Once("sha256", b.subarray(0, n), "buffer");
}

/** The input of nodeHashInto, one buffer for all calls. */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, 1);

/** Writes the nodeHash of the two hashes side by side at pair[from ..] (left, then right) into out[at ..]. */
export function nodeHashInto(pair: Uint8Array, from: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < 2 * HASH_SIZE; i++) nodeInput[1 + i] = pair[from + i];
  sha256Into(nodeInput, out, at);
}

/** MTH({}) = SHA-256 of nothing: the root of an empty tree. */
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();

/** The largest power of two strictly less than n (n >= 2): RFC 9162's k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** MTH of a list of leaf hashes, by the RFC's recursive definition (for small trees and tests). */
export function rootFromLeafHashes(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return hashes[0];
  const k = splitPoint(hashes.length);
  return nodeHash(rootFromLeafHashes(hashes.slice(0, k)), rootFromLeafHashes(hashes.slice(k)));
}

export function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

const odd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && timingSafeEqual(a, b);
}

function wellFormed(proof: readonly Uint8Array[]): boolean {
  return proof.every((p) => p.length === HASH_SIZE);
}

/**
 * The root that an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1-4), or undefined when
 * the proof cannot be one for (index, size): wrong length or index out of range.
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer | undefined {
  checkSize("index", index);
  checkSize("size", size);
  if (index >= size || leaf.length !== HASH_SIZE || !wellFormed(proof)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** True when `proof` shows that the leaf with hash `leaf` is at `index` in the tree of `size` leaves with root `root`. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusionProof(index, size, leaf, proof);
  return r !== undefined && sameHash(r, root);
}

/**
 * True when `proof` shows that the tree of size1 leaves with root1 is a prefix of the tree of
 * size2 leaves with root2 (RFC 9162 2.1.4.2). Equal sizes need equal roots and an empty proof;
 * an empty tree is a prefix of every tree (empty proof, root1 must be the empty root).
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  checkSize("size1", size1);
  checkSize("size2", size2);
  if (size1 > size2 || !wellFormed(proof) || root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) return false;
  if (size1 === size2) return proof.length === 0 && sameHash(root1, root2);
  if (size1 === 0) return proof.length === 0 && sameHash(root1, EMPTY_ROOT);
  // Step 1: a non-trivial proof is never empty.
  if (proof.length === 0) return false;
  // Step 2: when size1 is a power of two, its root is itself the first node of the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Steps 3-4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Steps 5-6.
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && sameHash(fr, root1) && sameHash(sr, root2);
}
