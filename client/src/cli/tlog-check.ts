// Checks an election's transparency log with proofs only (docs/transparency-log.md): the
// latest signed checkpoint, the inclusion of one entry, and the consistency of every
// checkpoint kept before with it. Two signed checkpoints that no proof joins are the public
// evidence of a rewrite; they are reported together, never one without the other.
import { openCheckpoint, parseNote, verifierFromKey, verifyConsistency, verifyInclusion, type Checkpoint } from "@voting/election-core";

/** What the CLI asks of a log: the latest checkpoint and proofs between sizes it names. */
export interface LogSource {
  /** The latest signed checkpoint, and the log's verifier key if the server offers one. */
  checkpoint(): Promise<{ note: string; logKey?: string }>;
  inclusionProof(index: number, size: number): Promise<Buffer[]>;
  consistencyProof(size1: number, size2: number): Promise<Buffer[]>;
}

export interface VerifiedCheckpoint {
  checkpoint: Checkpoint;
  /** The signed note. */
  note: string;
}

/** A checkpoint as kept by a store or a witness. */
export interface KeptCheckpoint {
  size: number;
  root: string;
  note: string;
}

/** Two checkpoints of one log that cannot both be true. */
export class SplitViewError extends Error {
  constructor(
    readonly reason: string,
    readonly older: string,
    readonly newer: string,
  ) {
    super(reason);
    this.name = "SplitViewError";
  }
}

/** The evidence as text: the reason and both signed notes, each complete. */
export function evidenceText(e: SplitViewError): string {
  return `${e.reason}\n\ncheckpoint kept before:\n${e.older}\ncheckpoint the log serves now:\n${e.newer}`;
}

export const rootText = (c: Checkpoint) => c.rootHash.toString("base64");

/** The election id an origin names ("<log name>/election/<id>"), or undefined. */
export function originElection(origin: string): number | undefined {
  const m = /\/election\/([1-9][0-9]{0,14})$/.exec(origin);
  return m ? Number(m[1]) : undefined;
}

/** The origin a signed note names, read without verifying anything (to find its pinned key). */
export function noteOrigin(note: string): string {
  return parseNote(note).text.split("\n")[0];
}

/** Opens a checkpoint signed by the log key `vkey`, of election `electionId` when given. */
export function openLogCheckpoint(note: string, vkey: string, electionId?: number): VerifiedCheckpoint {
  const log = verifierFromKey(vkey);
  const opened = openCheckpoint(note, { log, origin: log.name });
  if (electionId !== undefined && originElection(opened.checkpoint.origin) !== electionId) {
    throw new Error(`the checkpoint is of ${JSON.stringify(opened.checkpoint.origin)}, not of election ${electionId}`);
  }
  return { checkpoint: opened.checkpoint, note };
}

/**
 * Proves that `kept` and `latest` are views of one append-only log: equal roots at equal size,
 * else a consistency proof from the smaller to the larger (a kept checkpoint may be newer than
 * what a lagging server serves). Throws SplitViewError when they cannot both be true.
 */
export async function proveConsistent(source: LogSource, kept: KeptCheckpoint, latest: VerifiedCheckpoint): Promise<void> {
  const now = latest.checkpoint;
  const keptRoot = Buffer.from(kept.root, "base64");
  if (kept.size === now.size) {
    if (!keptRoot.equals(now.rootHash)) throw new SplitViewError(`two checkpoints of ${now.origin} have size ${now.size} but different roots`, kept.note, latest.note);
    return;
  }
  const [small, large] = kept.size < now.size ? [{ size: kept.size, root: keptRoot }, { size: now.size, root: now.rootHash }] : [{ size: now.size, root: now.rootHash }, { size: kept.size, root: keptRoot }];
  let proof: Buffer[];
  try {
    proof = await source.consistencyProof(small.size, large.size);
  } catch (err) {
    // A log that cannot prove its own growth is as suspect as one whose proof fails; but a
    // server that is down is not evidence, so only proof-shaped failures count.
    if ((err as { code?: number }).code !== undefined && !isProofRefusal(err)) throw err;
    throw new SplitViewError(`the log cannot prove that its tree of size ${small.size} is a prefix of its tree of size ${large.size}: ${(err as Error).message}`, kept.note, latest.note);
  }
  if (!verifyConsistency(small.size, large.size, proof, small.root, large.root)) {
    throw new SplitViewError(`the consistency proof from size ${small.size} to size ${large.size} of ${now.origin} does not verify: the log was rewritten`, kept.note, latest.note);
  }
}

/** gRPC refusals that mean "no such proof" (as opposed to transport trouble). */
function isProofRefusal(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  // INVALID_ARGUMENT 3, NOT_FOUND 5, FAILED_PRECONDITION 9, OUT_OF_RANGE 11
  return code === 3 || code === 5 || code === 9 || code === 11;
}

/** Checks every kept checkpoint against `latest`, asking one proof per distinct size. */
export async function proveAllConsistent(source: LogSource, kept: readonly KeptCheckpoint[], latest: VerifiedCheckpoint): Promise<number> {
  const seen = new Map<number, KeptCheckpoint>();
  for (const k of kept) {
    const other = seen.get(k.size);
    // Two kept checkpoints of one size with different roots are evidence without asking anyone.
    if (other && other.root !== k.root) throw new SplitViewError(`two checkpoints of ${latest.checkpoint.origin} have size ${k.size} but different roots`, other.note, k.note);
    seen.set(k.size, k);
  }
  for (const k of seen.values()) await proveConsistent(source, k, latest);
  return seen.size;
}

/** Verifies that `leaf` (its leaf bytes) is entry `index` of the tree of `latest`. */
export async function proveIncluded(source: LogSource, index: number, leafHash: Buffer, latest: VerifiedCheckpoint): Promise<Buffer[]> {
  const { size, rootHash } = latest.checkpoint;
  if (index >= size) throw new Error(`entry ${index + 1} is not in the latest checkpoint of ${latest.checkpoint.origin} (size ${size})`);
  const proof = await source.inclusionProof(index, size);
  if (!verifyInclusion(index, size, leafHash, proof, rootHash)) {
    throw new Error(`the inclusion proof of entry ${index + 1} in the checkpoint of size ${size} of ${latest.checkpoint.origin} does not verify: the log does not hold this entry there`);
  }
  return proof;
}
