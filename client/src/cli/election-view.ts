import { methodName as enumMethodName, stateName as enumStateName, voteV1 } from "@voting/api";
import { table } from "./format.js";

export const methodName = (m: voteV1.BallotMethod): string => enumMethodName(m) ?? "unknown";
export const stateName = (s: voteV1.ElectionState): string => enumStateName(s) ?? "unknown";

/** An election as plain JSON for --json output. */
export function electionJson(e: voteV1.Election) {
  return {
    id: e.id,
    title: e.title,
    description: e.description,
    method: methodName(e.method),
    seats: e.seats,
    state: stateName(e.state),
    candidates: e.candidates,
    ballotCount: e.ballotCount,
    opensAt: e.opensAt?.toISOString(),
    closesAt: e.closesAt?.toISOString(),
    hasVoterRoll: e.hasVoterRoll,
    voterRollSize: e.voterRollSize,
    resultsWhileOpen: e.resultsWhileOpen,
    logFormat: e.logFormat,
    logGenesisHash: e.logGenesisHash,
    logHeadHash: e.logHeadHash,
  };
}

export function renderElection(e: voteV1.Election): string {
  const lines = [
    `election ${e.id}: ${e.title} (${stateName(e.state)})`,
    `method ${methodName(e.method)}, ${e.seats} seat${e.seats === 1 ? "" : "s"}; ${e.ballotCount} ballot${e.ballotCount === 1 ? "" : "s"} cast`,
  ];
  if (e.description) lines.push(e.description);
  if (e.opensAt) lines.push(`opens ${e.opensAt.toISOString()}`);
  if (e.closesAt) lines.push(`closes ${e.closesAt.toISOString()}`);
  lines.push(e.hasVoterRoll ? `voter roll: ${e.voterRollSize} usernames` : "no voter roll: every voter may vote");
  lines.push(e.resultsWhileOpen ? "results shown while open" : "results embargoed until the close");
  lines.push(e.candidates.length === 0 ? "no candidates yet" : table(["ID", "CANDIDATE"], e.candidates.map((c) => [String(c.id), c.name])));
  return lines.join("\n");
}
