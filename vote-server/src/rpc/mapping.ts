// Proto <-> domain mapping for vote-server, in one place.
import { voteV1 } from "@voting/api";
import { parseChoicesKey } from "@voting/election-core";
import type { LogRow } from "../db/ballot-repository.js";
import type { Candidate, Election, ElectionState } from "../domain/elections.js";
import type { Receipt } from "../domain/receipts.js";

const STATE: Record<ElectionState, voteV1.ElectionState> = {
  draft: voteV1.ElectionState.ELECTION_STATE_DRAFT,
  open: voteV1.ElectionState.ELECTION_STATE_OPEN,
  closed: voteV1.ElectionState.ELECTION_STATE_CLOSED,
};

export function stateFromProto(s: voteV1.ElectionState): ElectionState | undefined {
  return (Object.keys(STATE) as ElectionState[]).find((k) => STATE[k] === s);
}

export function toProtoElection(e: Election, candidates: Candidate[] = []): voteV1.Election {
  return {
    id: e.id,
    title: e.title,
    description: e.description,
    method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY,
    seats: e.seats,
    state: STATE[e.state],
    candidateSource: voteV1.CandidateSource.CANDIDATE_SOURCE_REGISTERED_USERS,
    candidates: candidates.map((c) => ({ id: c.id, name: c.name })),
    ballotCount: e.headSeq,
    logGenesisHash: e.genesisHash,
    logHeadHash: e.headHash,
  };
}

export const toProtoReceipt = (r: Receipt): voteV1.Receipt => ({
  electionId: r.electionId,
  seq: r.seq,
  ballotHash: r.ballotHash,
  trackingCode: r.trackingCode,
});

export const toProtoEntry = (r: LogRow): voteV1.BallotLogEntry => ({
  electionId: r.electionId,
  seq: r.seq,
  trackingCode: r.trackingCode,
  ballot: { choices: parseChoicesKey(r.choices) },
  hash: r.hash,
});
