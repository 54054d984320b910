import { CURRENT_LOG_FORMAT, genesisHash } from "@voting/election-core";
import type { LogFormat, Method } from "@voting/election-core";
import { FailedPreconditionError, NotFoundError } from "@voting/server-kit";

export type { Method };
export type ElectionState = "draft" | "open" | "closed";
export type CandidateSource = "registered_users" | "list";

export interface Candidate {
  id: number;
  name: string;
}

export interface Election {
  id: number;
  title: string;
  description: string;
  method: Method;
  seats: number;
  state: ElectionState;
  candidateSource: CandidateSource;
  /** Empty until the election opens and its definition is frozen. */
  genesisHash: string;
  headSeq: number;
  headHash: string;
  opensAt?: Date;
  closesAt?: Date;
  resultsWhileOpen: boolean;
  hasVoterRoll: boolean;
  logFormat: LogFormat;
}

export const DEFAULT_ELECTION_ID = 1;

export function definitionHash(e: Pick<Election, "id" | "title" | "method" | "seats" | "candidateSource" | "logFormat">, candidates: Candidate[]): string {
  return genesisHash(e.logFormat, { id: e.id, title: e.title, method: e.method, seats: e.seats, candidateSource: e.candidateSource, candidates });
}

/** The election that exists on every fresh system, so people can vote with no setup. */
export function defaultElection(): Election {
  const definition = {
    id: DEFAULT_ELECTION_ID,
    title: "General election",
    method: "plurality",
    seats: 1,
    candidateSource: "registered_users",
    logFormat: CURRENT_LOG_FORMAT,
  } as const;
  const genesis = definitionHash(definition, []);
  return {
    ...definition,
    description: "Every registered candidate stands; every registered voter may vote once.",
    state: "open",
    genesisHash: genesis,
    headSeq: 0,
    headHash: genesis,
    resultsWhileOpen: true,
    hasVoterRoll: false,
  };
}

/** Election id 0 in a request means the default election. */
export const resolveElectionId = (id: number): number => (id === 0 ? DEFAULT_ELECTION_ID : id);

/** Whether ballots are taken now: open, and not past a scheduled close. */
export function takesBallots(e: Election, now: number): boolean {
  return e.state === "open" && (e.closesAt === undefined || e.closesAt.getTime() > now);
}

export const electionNotFound = (id: number) => new NotFoundError(`election ${id} not found`, { reason: "ELECTION_NOT_FOUND", metadata: { electionId: String(id) } });

/** A ballot for an election that does not take ballots now (see takesBallots). */
export const electionNotOpen = (e: Pick<Election, "id" | "state">) =>
  new FailedPreconditionError(`election ${e.id} is ${e.state === "open" ? "past its closing time" : e.state}, not open`, {
    reason: "ELECTION_NOT_OPEN",
    metadata: { electionId: String(e.id) },
  });
