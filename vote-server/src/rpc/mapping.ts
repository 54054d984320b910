// Proto <-> domain mapping for vote-server, in one place.
import { methodEnum, methodName, stateEnum, stateName, voteV1 } from "@voting/api";
import { parseChoicesKey } from "@voting/election-core";
import type { LogRow } from "../db/ballot-repository.js";
import type { Candidate, CandidateSource, Election } from "../domain/elections.js";
import type { Receipt } from "../domain/receipts.js";

const SOURCE: Record<CandidateSource, voteV1.CandidateSource> = {
  registered_users: voteV1.CandidateSource.CANDIDATE_SOURCE_REGISTERED_USERS,
  list: voteV1.CandidateSource.CANDIDATE_SOURCE_LIST,
};

export { stateName as stateFromProto, methodName as methodFromProto };

export function toProtoElection(e: Election, candidates: Candidate[] = [], rollSize = 0, turnout = 0, integrityAlarms: string[] = []): voteV1.Election {
  return {
    id: e.id,
    title: e.title,
    description: e.description,
    method: methodEnum(e.method),
    seats: e.seats,
    state: stateEnum(e.state),
    candidateSource: SOURCE[e.candidateSource],
    candidates: candidates.map((c) => ({ id: c.id, name: c.name })),
    ballotCount: e.headSeq,
    logGenesisHash: e.genesisHash,
    logHeadHash: e.headHash,
    opensAt: e.opensAt,
    closesAt: e.closesAt,
    hasVoterRoll: e.hasVoterRoll,
    voterRollSize: rollSize,
    resultsWhileOpen: e.resultsWhileOpen,
    turnout,
    logFormat: e.logFormat,
    integrityAlarms,
  };
}

export const toProtoReceipt = (r: Receipt): voteV1.Receipt => ({
  electionId: r.electionId,
  seq: r.seq,
  ballotHash: r.ballotHash,
  trackingCode: r.trackingCode,
  leafIndex: r.leafIndex ?? 0,
  checkpoint: r.checkpoint ?? "",
  inclusionPath: r.inclusionPath ?? [],
});

export function toProtoEntry(r: LogRow, sealed = false): voteV1.BallotLogEntry {
  // A format 1 entry (no commitment) hashes the ballot itself, so its hash and tracking code
  // would let anyone try every ballot: while sealed it shows only its place in the log.
  if (sealed && r.commitment === "") return { electionId: r.electionId, seq: r.seq, trackingCode: "", ballot: undefined, hash: "", commitment: "", salt: "" };
  return {
    electionId: r.electionId,
    seq: r.seq,
    trackingCode: r.trackingCode,
    ballot: sealed ? undefined : { choices: parseChoicesKey(r.choices) },
    hash: r.hash,
    commitment: r.commitment,
    // The salt opens the commitment: it goes out only with the ballot.
    salt: sealed ? "" : r.salt,
  };
}
