// Candidates of elections whose candidates are registered users, looked up in auth-server.
// A ballot's check is cached briefly (a confirmed candidate for a minute, a refusal for two
// seconds, so a newly registered candidate can receive votes almost at once); the list is
// read afresh each time, so it never misses someone who just registered.
import type { Upstream } from "@voting/server-kit";
import type { Candidate } from "./elections.js";

export interface CandidateSourcePort {
  /** The user's role, or undefined when no such user exists. `upstream`: the call asking, whose deadline the lookup keeps. */
  roleOf(userId: number, upstream?: Upstream): Promise<string | undefined>;
  listCandidates(upstream?: Upstream): Promise<Candidate[]>;
}

export interface CandidateDirectory {
  isCandidate(userId: number, upstream?: Upstream): Promise<boolean>;
  list(upstream?: Upstream): Promise<Candidate[]>;
}

export function candidateDirectory(port: CandidateSourcePort, now = () => Date.now()): CandidateDirectory {
  const checked = new Map<number, { yes: boolean; until: number }>();
  return {
    async isCandidate(userId, upstream) {
      const hit = checked.get(userId);
      if (hit && hit.until > now()) return hit.yes;
      const yes = (await port.roleOf(userId, upstream)) === "candidate";
      if (checked.size > 100_000) checked.clear();
      checked.set(userId, { yes, until: now() + (yes ? 60_000 : 2_000) });
      return yes;
    },
    list: (upstream) => port.listCandidates(upstream),
  };
}
