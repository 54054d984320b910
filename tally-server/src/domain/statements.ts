// The final result statement: once an election is closed and every ballot counted,
// tally-server signs what it found, including the log's head hash and length, so the result
// cannot be altered afterwards without the signature (checked with the published JWKS)
// showing it.
import { SignJWT } from "jose";
import { TOKEN_ALGORITHM, type KeyRing } from "@voting/server-kit";
import type { StatementRepository } from "../db/statement-repository.js";
import type { ElectionResult } from "./results.js";

export const STATEMENT_TYPE = "voting-result+jwt";
export const STATEMENT_ISSUER = "voting-tally";

/** The claims of a statement; auditors compare them with their own recount. */
export function statementClaims(r: ElectionResult) {
  return {
    election_id: r.electionId,
    title: r.title,
    method: r.tally?.method ?? "",
    seats: r.tally?.seats ?? 0,
    ballot_count: r.countedThroughSeq,
    log_head_hash: r.logHeadHash,
    winners: r.tally?.winners ?? [],
    candidates: (r.tally?.candidates ?? []).map((c) => ({ id: c.id, name: c.name, votes: c.votes, elected: c.elected })),
    final_round: r.tally?.rounds.at(-1)?.counts ?? [],
  };
}

export function statementSigner(keys: KeyRing, repo: StatementRepository) {
  return async (r: ElectionResult): Promise<string> => {
    const existing = await repo.get(r.electionId);
    if (existing) return existing;
    const { kid, privateKey } = keys.signer();
    const jws = await new SignJWT(statementClaims(r))
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: STATEMENT_TYPE })
      .setIssuer(STATEMENT_ISSUER)
      .setSubject(String(r.electionId))
      .setIssuedAt()
      .sign(privateKey);
    return repo.putIfAbsent(r.electionId, jws);
  };
}
