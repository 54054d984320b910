import { genesisHash } from "@voting/election-core";

export type Method = "plurality";
export type ElectionState = "draft" | "open" | "closed";
export type CandidateSource = "registered_users";

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
  genesisHash: string;
  headSeq: number;
  headHash: string;
}

export const DEFAULT_ELECTION_ID = 1;

/** The election that exists on every fresh system, so people can vote with no setup. */
export function defaultElection(): Election {
  const definition = {
    id: DEFAULT_ELECTION_ID,
    title: "General election",
    method: "plurality",
    seats: 1,
    candidateSource: "registered_users",
    candidates: [],
  } as const;
  const genesis = genesisHash(definition);
  return {
    ...definition,
    description: "Every registered candidate stands; every registered voter may vote once.",
    state: "open",
    genesisHash: genesis,
    headSeq: 0,
    headHash: genesis,
  };
}

/** Election id 0 in a request means the default election. */
export const resolveElectionId = (id: number): number => (id === 0 ? DEFAULT_ELECTION_ID : id);
