// Reads an election's public ballot log and checks its hash chain as it goes.
import { chainAndLeafHash, chainHash, entryProblem, type LogEntryContent, type LogFormat } from "@voting/election-core";
import type { voteV1, VotingClient } from "@voting/api";

export interface CheckedEntry extends LogEntryContent {
  hash: string;
  /** Format 2: the entry's transparency-log leaf hash. */
  leaf?: Buffer;
}

export type LogProblem = { seq: number; reason: string };

export interface LogCheck {
  problem?: LogProblem;
  /** Some ballots were withheld (embargo): their commitments could not be opened. */
  sealed: boolean;
  /** Whether the chain was recomputed to headSeq; a format 1 log cannot be while sealed. */
  chainChecked: boolean;
  headSeq: number;
  headHash: string;
}

/** The election's log format; servers from before format 2 do not say, and use format 1. */
export const logFormatOf = (election: voteV1.Election): LogFormat => (election.logFormat === 2 ? 2 : 1);

/**
 * Streams entries 1..end and verifies each link and, where the ballot is published, that it
 * opens the entry's commitment. Calls onEntries with the good entries of each message, in
 * order (a million entries are a thousand calls, not a million); returns the first problem.
 */
export async function readLog(client: VotingClient, election: voteV1.Election, onEntries: (e: CheckedEntry[]) => void | Promise<void>): Promise<LogCheck> {
  const format = logFormatOf(election);
  let seq = 0;
  let hash = election.logGenesisHash;
  let sealed = false;
  const stop = (problem?: LogProblem) => ({ problem, sealed, chainChecked: !problem, headSeq: seq, headHash: hash });
  const stream = await client.votes.streamBallots({ electionId: election.id, afterSeq: 0, follow: false });
  let good: CheckedEntry[] = [];
  // Hands over the good entries read so far: before returning a problem too.
  const deliver = async () => {
    if (good.length > 0) await onEntries(good);
    good = [];
  };
  try {
    for await (const msg of stream as AsyncIterable<voteV1.StreamBallotsResponse>) {
      const { entries } = msg;
      // The message's leaf hashes side by side: one allocation, not one per entry.
      const leaves = format === 2 ? Buffer.allocUnsafe(32 * entries.length) : undefined;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        // A format 1 entry hashes the ballot itself: without it there is nothing to check.
        if (!e.ballot && format === 1) return await deliver(), { sealed: true, chainChecked: false, headSeq: seq, headHash: hash };
        if (e.seq !== seq + 1) return await deliver(), stop({ seq: seq + 1, reason: e.seq > seq + 1 ? `entry ${seq + 1} is missing (next is ${e.seq})` : `entry ${e.seq} appears again after ${seq}` });
        const entry: CheckedEntry = { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot?.choices, salt: e.salt || undefined, hash: e.hash, leaf: undefined };
        const problem = entryProblem(format, entry, false);
        if (problem) return await deliver(), stop({ seq: e.seq, reason: problem });
        let expected: string;
        if (leaves) ({ hash: expected, leaf: entry.leaf } = chainAndLeafHash(format, hash, entry, leaves.subarray(32 * i, 32 * i + 32)));
        else expected = chainHash(format, hash, entry);
        if (expected !== e.hash) return await deliver(), stop({ seq: e.seq, reason: `hash of entry ${e.seq} does not follow from the chain (published ${e.hash.slice(0, 16)}…, recomputed ${expected.slice(0, 16)}…)` });
        sealed ||= !entry.choices;
        seq = e.seq;
        hash = e.hash;
        good.push(entry);
      }
      await deliver();
    }
  } finally {
    stream.cancel();
  }
  return stop();
}
