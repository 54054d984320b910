// An in-memory log for unit tests: a Merkle tree, a signing key, and a rewrite.
import { randomBytes } from "node:crypto";
import { ed25519Signer, formatVerifierKey, leafHash, MemoryTree, rawPublicKey, ed25519PrivateKey, SIG_ED25519, signCheckpoint } from "@voting/election-core";
import type { LogSource } from "./tlog-check.js";

export class FakeLog implements LogSource {
  tree = new MemoryTree();
  leaves: Buffer[] = [];
  readonly seed = randomBytes(32);
  readonly vkey: string;
  served = "";
  calls = 0;

  constructor(readonly origin = "vote.test/election/7") {
    this.vkey = formatVerifierKey(origin, SIG_ED25519, rawPublicKey(ed25519PrivateKey(this.seed)));
  }

  add(n: number): this {
    for (let i = 0; i < n; i++) {
      const leaf = randomBytes(40);
      this.leaves.push(leaf);
      this.tree.appendLeafHash(leafHash(leaf));
    }
    this.served = this.sign();
    return this;
  }

  sign(size = this.tree.size): string {
    return signCheckpoint({ origin: this.origin, size, rootHash: this.tree.root(size), extensions: [] }, ed25519Signer(this.origin, this.seed));
  }

  /** The insider's rewrite: entry `index` replaced, the tree rebuilt and re-signed with the same key. */
  rewrite(index: number): this {
    this.leaves[index] = randomBytes(40);
    this.tree = new MemoryTree();
    for (const l of this.leaves) this.tree.appendLeafHash(leafHash(l));
    this.served = this.sign();
    return this;
  }

  async checkpoint() {
    this.calls++;
    return { note: this.served, logKey: this.vkey };
  }

  async inclusionProof(index: number, size: number) {
    this.calls++;
    return this.tree.inclusionProof(index, size);
  }

  async consistencyProof(size1: number, size2: number) {
    this.calls++;
    return this.tree.consistencyProof(size1, size2);
  }
}
