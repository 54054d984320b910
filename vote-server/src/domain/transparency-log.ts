// Each format 2 election's transparency log (docs/transparency-log.md): the Merkle tree over
// its entry bytes, checkpoints signed with the vote-server's log key, and proofs. Format 1
// elections have no tree: their entry bytes hold the choices, so publishing it while sealed
// would leak ballots.
import {
  CompactRange,
  EMPTY_ROOT,
  SIG_ED25519,
  consistencyProofFrom,
  ed25519Signer,
  foldRange,
  electionOrigin,
  entryBytes,
  formatVerifierKey,
  frontierNodes,
  inclusionProof,
  inclusionProofFrom,
  leafHash,
  parseCheckpoint,
  signCheckpoint,
  type NoteSigner,
  type StoredNode,
} from "@voting/election-core";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@voting/server-kit";
import type { LogRow } from "../db/ballot-repository.js";
import type { LogRepository, StoredCheckpoint } from "../db/log-repository.js";
import type { Election } from "./elections.js";

/** The log's Ed25519 key as the key ring gives it now (it may be reloaded). */
export interface LogKey {
  seed: Buffer;
  publicKey: Buffer;
}

export interface LogSigner {
  origin(electionId: number): string;
  publicKey(): Buffer;
  verifierKey(electionId: number): string;
  /** The signed checkpoint note of an election's tree. */
  sign(electionId: number, size: number, root: Buffer): string;
}

export function logSigner(logName: string, key: () => LogKey): LogSigner {
  // Key IDs depend on the origin, so one signer per election (and per key, after a reload).
  const signers = new Map<string, NoteSigner>();
  const origin = (id: number) => electionOrigin(logName, id);
  const signerOf = (id: number) => {
    const k = key();
    const name = `${k.publicKey.toString("hex")}/${id}`;
    let s = signers.get(name);
    if (!s) {
      if (signers.size > 10_000) signers.clear();
      signers.set(name, (s = ed25519Signer(origin(id), k.seed)));
    }
    return s;
  };
  return {
    origin,
    publicKey: () => key().publicKey,
    verifierKey: (id) => formatVerifierKey(origin(id), SIG_ED25519, key().publicKey),
    sign: (id, size, root) => signCheckpoint({ origin: origin(id), size, rootHash: root, extensions: [] }, signerOf(id)),
  };
}

/** The leaf of a log entry: its format 2 entry bytes (a commitment, never the choices). */
export const leafData = (r: Pick<LogRow, "electionId" | "seq" | "trackingCode" | "commitment">): Buffer =>
  entryBytes(2, { electionId: r.electionId, seq: r.seq, trackingCode: r.trackingCode, commitment: r.commitment });

/**
 * The tree during one append transaction: the frontier read under the log lock plus the nodes
 * this batch completes, which is every node an inclusion proof of a new leaf needs.
 */
// A node's key in BatchTree's map: a number, not a string built per lookup (levels are below 64).
const nodeKey = (level: number, index: number) => index * 64 + level;

export class BatchTree {
  private readonly range: CompactRange;
  private readonly known = new Map<number, Buffer>();
  /** Nodes completed by this batch, to store with the entries. */
  readonly nodes: StoredNode[] = [];

  constructor(size: number, frontier: readonly StoredNode[]) {
    for (const n of frontier) this.known.set(nodeKey(n.level, n.index), n.hash);
    this.range = CompactRange.restore(size, (level, index) => this.known.get(nodeKey(level, index))!);
  }

  get size(): number {
    return this.range.size;
  }

  /** Appends an entry; returns its leaf index. */
  append(entry: Pick<LogRow, "electionId" | "seq" | "trackingCode" | "commitment">): number {
    return this.appendLeafHash(entry.seq, leafHash(leafData(entry)));
  }

  /** Appends the entry of this seq by its leaf hash (computed with its chain hash); returns its leaf index. */
  appendLeafHash(seq: number, leaf: Buffer): number {
    const index = this.range.size;
    if (seq !== index + 1) throw new Error(`entry ${seq} is not leaf ${index}`);
    for (const n of this.range.append(leaf)) {
      this.known.set(nodeKey(n.level, n.index), n.hash);
      this.nodes.push(n);
    }
    return index;
  }

  root(): Buffer {
    return this.range.root();
  }

  /** Inclusion proof of a leaf appended in this batch, in the tree as it is now. */
  inclusionPath(index: number): Buffer[] {
    return inclusionProof(index, this.range.size, (level, i) => {
      const h = this.known.get(nodeKey(level, i));
      if (!h) throw new Error(`node ${level}/${i} is not in this batch`);
      return h;
    });
  }
}

/** The text part of a signed note (what the signature covers). */
export function checkpointOf(note: string) {
  const end = note.indexOf("\n\n");
  return parseCheckpoint(note.slice(0, end + 1));
}

export interface LogDeps {
  repo: LogRepository;
  signer: LogSigner;
  election(id: number): Promise<Election>;
}

export function transparencyLog({ repo, signer, election }: LogDeps) {
  const withLog = async (id: number) => {
    const e = await election(id);
    if (e.logFormat !== 2) {
      throw new FailedPreconditionError(`election ${id} has a format 1 ballot log, which has no transparency log (its entries hold the choices); check it with the hash chain`, { reason: "NO_TRANSPARENCY_LOG" });
    }
    return e;
  };

  // The largest checkpoint size seen per election: a size at most that is valid for good, so
  // a proof for it needs no checkpoint read.
  const seen = new Map<number, number>();

  /** The latest checkpoint; an election without one has the empty tree's. */
  const latest = async (id: number): Promise<StoredCheckpoint> => {
    const c = (await repo.latestCheckpoint(id)) ?? { size: 0, note: signer.sign(id, 0, EMPTY_ROOT) };
    if (c.size > (seen.get(id) ?? 0)) {
      if (seen.size > 100_000) seen.clear();
      seen.set(id, c.size);
    }
    return c;
  };

  /** The size a request names: 0 for the latest, never beyond it. */
  const sizeWithin = async (what: string, id: number, asked: number) => {
    if (asked > 0 && asked <= (seen.get(id) ?? 0)) return asked;
    const top = await latest(id);
    if (asked > top.size) throw new InvalidArgumentError(`${what} ${asked} is beyond the latest checkpoint (tree size ${top.size})`, { field: what, reason: "BEYOND_CHECKPOINT" });
    return asked === 0 ? top.size : asked;
  };

  return {
    async checkpoint(id: number) {
      await withLog(id);
      const c = await latest(id);
      return { note: c.note, checkpoint: checkpointOf(c.note), verifierKey: signer.verifierKey(id), publicKey: signer.publicKey() };
    },

    /** Inclusion proof of a leaf (found by the caller) in the tree of treeSize (0: latest). */
    async inclusion(id: number, treeSize: number, leafIndex: number) {
      await withLog(id);
      const size = await sizeWithin("tree_size", id, treeSize);
      if (leafIndex >= size) throw new InvalidArgumentError(`leaf_index ${leafIndex} is not below tree_size ${size}`, { field: "leaf_index" });
      return { size, path: await inclusionProofFrom(leafIndex, size, (nodes) => repo.readNodes(id, nodes)) };
    },

    async consistency(id: number, firstSize: number, secondSize: number) {
      await withLog(id);
      const second = await sizeWithin("second_size", id, secondSize);
      if (firstSize > second) throw new InvalidArgumentError(`first_size ${firstSize} is greater than second_size ${second}`, { field: "first_size" });
      const path = firstSize === 0 || firstSize === second ? [] : await consistencyProofFrom(firstSize, second, (nodes) => repo.readNodes(id, nodes));
      return { first: firstSize, second, path };
    },

    /** Leaf index, first checkpoint that includes it and inclusion proof, for a receipt read back on a retry. */
    async receiptProof(e: Election, seq: number) {
      if (e.logFormat !== 2) return undefined;
      const c = await repo.firstCheckpointFrom(e.id, seq);
      if (!c) return undefined;
      return { leafIndex: seq - 1, checkpoint: c.note, inclusionPath: await inclusionProofFrom(seq - 1, c.size, (nodes) => repo.readNodes(e.id, nodes)) };
    },

    /**
     * Signs a checkpoint for every format 2 election whose head is past its latest one (logs
     * migrated from before the tree, replicas that crashed between commit and signing) and
     * gives elections without any a checkpoint of the empty tree. Runs every second.
     */
    async catchUp(): Promise<number> {
      let signed = 0;
      for (const { electionId, headSeq } of await repo.behind()) {
        const hashes = await repo.readNodes(electionId, frontierNodes(headSeq));
        const root = foldRange(hashes);
        await repo.saveCheckpoint(electionId, { size: headSeq, note: signer.sign(electionId, headSeq, root) });
        signed++;
      }
      return signed;
    },
  };
}

export type TransparencyLog = ReturnType<typeof transparencyLog>;
