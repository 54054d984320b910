// Proto enums and the plain names the domain, the CLI and JSON output use, in one place,
// beside the contract: the servers and the CLI map through the same tables.
import * as authV1 from "../gen/voting/auth/v1/auth.js";
import * as voteV1 from "../gen/voting/vote/v1/vote.js";
import type { Method } from "@voting/election-core";

export type ElectionStateName = "draft" | "open" | "closed";
export type RoleName = "voter" | "candidate" | "admin" | "service";

const METHOD: Record<Method, voteV1.BallotMethod> = {
  plurality: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY,
  approval: voteV1.BallotMethod.BALLOT_METHOD_APPROVAL,
  irv: voteV1.BallotMethod.BALLOT_METHOD_IRV,
  stv: voteV1.BallotMethod.BALLOT_METHOD_STV,
  schulze: voteV1.BallotMethod.BALLOT_METHOD_SCHULZE,
};

const STATE: Record<ElectionStateName, voteV1.ElectionState> = {
  draft: voteV1.ElectionState.ELECTION_STATE_DRAFT,
  open: voteV1.ElectionState.ELECTION_STATE_OPEN,
  closed: voteV1.ElectionState.ELECTION_STATE_CLOSED,
};

const ROLE: Record<RoleName, authV1.Role> = {
  voter: authV1.Role.ROLE_VOTER,
  candidate: authV1.Role.ROLE_CANDIDATE,
  admin: authV1.Role.ROLE_ADMIN,
  service: authV1.Role.ROLE_SERVICE,
};

const reverse = <K extends string, V>(table: Record<K, V>) => (v: V): K | undefined => (Object.keys(table) as K[]).find((k) => table[k] === v);

export const methodEnum = (m: Method): voteV1.BallotMethod => METHOD[m];
export const methodName = reverse(METHOD);
export const stateEnum = (s: ElectionStateName): voteV1.ElectionState => STATE[s];
export const stateName = reverse(STATE);
export const roleEnum = (r: RoleName): authV1.Role => ROLE[r];
export const roleName = reverse(ROLE);
