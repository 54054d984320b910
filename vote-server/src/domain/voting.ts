// The vote-server's use cases: read elections, cast a ballot, read the log.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, type Principal } from "@voting/server-kit";
import type { BallotRepository, LogRow } from "../db/ballot-repository.js";
import type { ElectionRepository } from "../db/election-repository.js";
import type { BallotBox } from "./ballot-box.js";
import type { CandidateDirectory } from "./candidates.js";
import type { Candidate, Election, ElectionState } from "./elections.js";
import type { Receipt } from "./receipts.js";

export interface VotingDeps {
  elections: ElectionRepository;
  ballots: BallotRepository;
  directory: CandidateDirectory;
  box: BallotBox;
}

export function votingService({ elections, ballots, directory, box }: VotingDeps) {
  // Election metadata changes rarely; the commit re-reads the state under the log lock.
  const cache = new Map<number, { at: number; election: Election }>();
  const election = async (id: number): Promise<Election> => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < 1_000) return hit.election;
    const e = await elections.get(id);
    if (!e) throw new NotFoundError(`election ${id} not found`);
    cache.set(id, { at: Date.now(), election: e });
    return e;
  };

  const candidatesOf = (e: Election): Promise<Candidate[]> => directory.list();

  return {
    async getElection(id: number): Promise<{ election: Election; candidates: Candidate[] }> {
      const e = await elections.get(id);
      if (!e) throw new NotFoundError(`election ${id} not found`);
      return { election: e, candidates: await candidatesOf(e) };
    },

    listElections: (q: { state?: ElectionState; afterId: number; limit: number }) => elections.list(q),

    async cast(voter: Principal, req: { electionId: number; choices: number[]; idempotencyKey: Buffer }): Promise<Receipt> {
      if (voter.role !== "voter") throw new PermissionDeniedError("only voters may vote");
      const e = await election(req.electionId);
      if (e.state !== "open") throw new FailedPreconditionError(`election ${e.id} is ${e.state}, not open`);
      if (req.choices.length !== 1) {
        throw new InvalidArgumentError(`election ${e.id} uses plurality: a ballot names exactly one candidate`);
      }
      if (!(await directory.isCandidate(req.choices[0]))) {
        throw new InvalidArgumentError(`${req.choices[0]} is not a candidate in election ${e.id}`);
      }
      return box.cast({ ...req, voterId: voter.userId });
    },

    async receipt(trackingCode: string): Promise<LogRow> {
      const row = await ballots.findByTrackingCode(trackingCode);
      if (!row) throw new NotFoundError(`no ballot has tracking code ${trackingCode}`);
      return row;
    },

    async electionExists(id: number): Promise<Election> {
      const e = await elections.get(id);
      if (!e) throw new NotFoundError(`election ${id} not found`);
      return e;
    },

    readLog: (electionId: number, afterSeq: number, limit: number) => ballots.readLog(electionId, afterSeq, limit),
  };
}

export type VotingService = ReturnType<typeof votingService>;
