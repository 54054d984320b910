// Which log key the CLI trusts for an election, and how it reports a split view.
import { RefusedError, type GlobalArgs } from "./context.js";
import { jsonSafe, terminalSafe } from "./format.js";
import type { CheckpointStore } from "./checkpoint-store.js";
import { evidenceText, noteOrigin, openLogCheckpoint, originElection, type SplitViewError, type VerifiedCheckpoint } from "./tlog-check.js";

/** Resolves the log key for a served checkpoint's origin (--log-key, else pinned, else trust on first use) and opens the note. */
export async function trustCheckpoint(store: CheckpointStore, served: { note: string; logKey?: string }, electionId: number, override?: string): Promise<VerifiedCheckpoint> {
  let origin: string;
  try {
    origin = noteOrigin(served.note);
  } catch (err) {
    throw new RefusedError(`the log served a malformed checkpoint for election ${electionId}: ${(err as Error).message}`);
  }
  if (originElection(origin) !== electionId) throw new RefusedError(`the log served a checkpoint of ${JSON.stringify(origin)} for election ${electionId}`);
  const key = await store.trustedKey(origin, served.logKey, override).catch((err: Error) => {
    throw new RefusedError(err.message);
  });
  if (key.changed) process.stderr.write(terminalSafe(`voting: warning: the server offers log key ${key.changed} for ${origin}, but ${key.vkey} is pinned; checking with the pinned key\n`));
  try {
    return openLogCheckpoint(served.note, key.vkey, electionId);
  } catch (err) {
    throw new RefusedError(`the checkpoint of ${origin} does not verify with the log key ${key.vkey}: ${(err as Error).message}`);
  }
}

/** Prints both checkpoints of a split view (stdout: the public evidence) and fails. */
export function failWithEvidence(args: GlobalArgs, err: SplitViewError, extra: Record<string, unknown> = {}): never {
  process.stdout.write(args.json ? `${jsonSafe({ ok: false, reason: err.reason, keptCheckpoint: err.older, servedCheckpoint: err.newer, ...extra })}\n` : `${terminalSafe(evidenceText(err))}`);
  throw new RefusedError(`${err.reason}; both signed checkpoints are printed above: together they are evidence of a rewrite`);
}
