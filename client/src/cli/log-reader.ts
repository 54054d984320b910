// Reads an election's public ballot log and checks its hash chain as it goes.
import { chainHash, type LogEntryContent } from "@voting/election-core";
import type { voteV1 } from "@voting/api";
import type { VotingClient } from "../client.js";

export interface CheckedEntry extends LogEntryContent {
  hash: string;
}

export type LogProblem = { seq: number; reason: string };

/**
 * Streams entries 1..end and verifies each link. Calls onEntry for each good entry; returns the
 * first problem, if any, or `sealed` when the log withholds ballot contents (embargo).
 */
export async function readLog(
  client: VotingClient,
  election: voteV1.Election,
  onEntry: (e: CheckedEntry) => void | Promise<void>,
): Promise<{ problem?: LogProblem; sealed: boolean; headSeq: number; headHash: string }> {
  let seq = 0;
  let hash = election.logGenesisHash;
  const stream = await client.votes.streamBallots({ electionId: election.id, afterSeq: 0, follow: false });
  try {
    for await (const msg of stream as AsyncIterable<voteV1.StreamBallotsResponse>) {
      for (const e of msg.entries) {
        if (!e.ballot) return { sealed: true, headSeq: seq, headHash: hash };
        if (e.seq !== seq + 1) return { problem: { seq: seq + 1, reason: e.seq > seq + 1 ? `entry ${seq + 1} is missing (next is ${e.seq})` : `entry ${e.seq} appears again after ${seq}` }, sealed: false, headSeq: seq, headHash: hash };
        const entry = { electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, choices: e.ballot.choices };
        const expected = chainHash(hash, entry);
        if (expected !== e.hash) return { problem: { seq: e.seq, reason: `hash of entry ${e.seq} does not follow from the chain (published ${e.hash.slice(0, 16)}…, recomputed ${expected.slice(0, 16)}…)` }, sealed: false, headSeq: seq, headHash: hash };
        seq = e.seq;
        hash = e.hash;
        await onEntry({ ...entry, hash });
      }
    }
  } finally {
    stream.cancel();
  }
  return { sealed: false, headSeq: seq, headHash: hash };
}
