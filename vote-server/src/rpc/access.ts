import type { AccessTable } from "@voting/server-kit";

/** Who may call each vote-server RPC. */
export const voteAccess: AccessTable = {
  "/voting.vote.v1.ElectionService/CreateElection": ["admin"],
  "/voting.vote.v1.ElectionService/GetElection": "public",
  "/voting.vote.v1.ElectionService/ListElections": "public",
  "/voting.vote.v1.ElectionService/AddCandidate": ["admin"],
  "/voting.vote.v1.ElectionService/AddToVoterRoll": ["admin"],
  "/voting.vote.v1.ElectionService/OpenElection": ["admin"],
  "/voting.vote.v1.ElectionService/CloseElection": ["admin"],
  "/voting.vote.v1.VoteService/CastVote": ["voter"],
  "/voting.vote.v1.VoteService/GetReceipt": "public",
  "/voting.vote.v1.VoteService/StreamBallots": "public",
  "/voting.log.v1.LogService/GetCheckpoint": "public",
  "/voting.log.v1.LogService/GetInclusionProof": "public",
  "/voting.log.v1.LogService/GetConsistencyProof": "public",
};
