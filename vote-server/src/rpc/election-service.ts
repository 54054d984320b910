import { voteV1 } from "@voting/api";
import { decodePageToken, encodePageToken, InvalidArgumentError, unary, type CallContext, type Logger } from "@voting/server-kit";
import type { ElectionAdmin } from "../domain/election-admin.js";
import { resolveElectionId } from "../domain/elections.js";
import type { VoterStanding, VotingService } from "../domain/voting.js";
import { methodFromProto, stateFromProto, toProtoElection } from "./mapping.js";

function parseListElections(req: voteV1.ListElectionsRequest) {
  const afterId = decodePageToken(req.pageToken);
  if (afterId === undefined) throw new InvalidArgumentError("page_token is not one this server issued", { field: "page_token", reason: "INVALID_PAGE_TOKEN" });
  if (req.pageSize > 500) throw new InvalidArgumentError("page_size must be at most 500", { field: "page_size" });
  const state = req.state === voteV1.ElectionState.ELECTION_STATE_UNSPECIFIED ? undefined : stateFromProto(req.state);
  if (req.state !== voteV1.ElectionState.ELECTION_STATE_UNSPECIFIED && !state) throw new InvalidArgumentError(`unknown state ${req.state}`, { field: "state" });
  return { state, afterId, limit: req.pageSize === 0 ? 50 : req.pageSize };
}

function parseCreateElection(req: voteV1.CreateElectionRequest) {
  const method = methodFromProto(req.method);
  if (!method) throw new InvalidArgumentError("method must be one of plurality, approval, irv, stv, schulze", { field: "method" });
  return {
    title: req.title,
    description: req.description,
    method,
    seats: req.seats === 0 ? 1 : req.seats,
    candidates: req.candidates,
    opensAt: req.opensAt,
    closesAt: req.closesAt,
    resultsWhileOpen: req.resultsWhileOpen,
    voterRoll: req.voterRoll,
  };
}

const electionId = (id: number) => {
  if (id === 0) throw new InvalidArgumentError("election_id is required", { field: "election_id" });
  return id;
};

/** alarmsOf: the integrity alarms raised about an election (reconciliation), shown in its status. */
export function electionServiceImpl(voting: VotingService, admin: ElectionAdmin, log: Logger, alarmsOf: (id: number) => string[] = () => []): voteV1.ElectionServiceServer {
  const view = async (id: number, ctx: CallContext, turnout = true) => {
    const v = await voting.getElection(id, ctx.upstream, { turnout });
    return { election: toProtoElection(v.election, v.candidates, v.rollSize, v.turnout, alarmsOf(v.election.id)) };
  };
  return {
    createElection: unary(log, async (req: voteV1.CreateElectionRequest, ctx) => view((await admin.create(parseCreateElection(req))).id, ctx)),
    getElection: unary(log, async (req: voteV1.GetElectionRequest, ctx) => view(resolveElectionId(req.electionId), ctx, !req.withoutTurnout)),
    listElections: unary(log, async (req: voteV1.ListElectionsRequest, ctx) => {
      const q = parseListElections(req);
      const page = await voting.listElections({ ...q, limit: q.limit + 1 });
      const shown = page.slice(0, q.limit);
      const standings = ctx.principal ? await voting.standings(ctx.principal, shown) : new Map<number, VoterStanding>();
      return {
        elections: shown.map((e) => {
          const s = standings.get(e.id);
          return { ...toProtoElection(e, [], 0, 0, alarmsOf(e.id)), callerMayVote: s?.mayVote, callerHasVoted: s?.hasVoted };
        }),
        nextPageToken: page.length > q.limit ? encodePageToken(shown[shown.length - 1].id) : "",
      };
    }),
    addCandidate: unary(log, async (req: voteV1.AddCandidateRequest) => ({ candidate: await admin.addCandidate(electionId(req.electionId), req.name) })),
    addToVoterRoll: unary(log, async (req: voteV1.AddToVoterRollRequest) => {
      const r = await admin.addToRoll(electionId(req.electionId), req.usernames);
      return { added: r.added, rollSize: r.rollSize };
    }),
    openElection: unary(log, async (req: voteV1.OpenElectionRequest, ctx) => view((await admin.open(electionId(req.electionId))).id, ctx)),
    closeElection: unary(log, async (req: voteV1.CloseElectionRequest, ctx) => view((await admin.close(electionId(req.electionId))).id, ctx)),
  };
}
