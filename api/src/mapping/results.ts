// The tally library's explained result as the proto ElectionResult, in one place: tally-server
// publishes it and `voting tabulate --json` prints the same structure.
import * as tallyV1 from "../gen/voting/tally/v1/tally.js";
import type { TallyResult } from "@voting/election-core";

const KIND: Record<string, tallyV1.TransferKind> = {
  surplus: tallyV1.TransferKind.TRANSFER_KIND_SURPLUS,
  elimination: tallyV1.TransferKind.TRANSFER_KIND_ELIMINATION,
};

const rows = (m: number[][]): tallyV1.PairwiseRow[] => m.map((values) => ({ values }));

export interface ResultContext {
  electionId: number;
  title: string;
  countedThroughSeq: number;
  logHeadHash: string;
  updateTime: Date;
  embargoed: boolean;
  final: boolean;
  statement?: string;
  integrityAlarms?: string[];
}

export function toProtoResult(t: TallyResult | undefined, ctx: ResultContext, totalBallots: number): tallyV1.ElectionResult {
  const base: tallyV1.ElectionResult = {
    electionId: ctx.electionId,
    title: ctx.title,
    candidates: [],
    totalBallots,
    countedThroughSeq: ctx.countedThroughSeq,
    logHeadHash: ctx.logHeadHash,
    updateTime: ctx.updateTime,
    method: t?.method ?? "",
    seats: t?.seats ?? 0,
    validBallots: 0,
    winners: [],
    rounds: [],
    pairwise: undefined,
    ranking: [],
    ties: [],
    notes: [],
    embargoed: ctx.embargoed,
    final: ctx.final,
    statement: ctx.statement ?? "",
    integrityAlarms: ctx.integrityAlarms ?? [],
  };
  if (!t || ctx.embargoed) return base;
  return {
    ...base,
    candidates: t.candidates.map((c) => ({ candidateId: c.id, name: c.name, votes: c.votes, percentage: c.percentage, elected: c.elected, position: c.position })),
    validBallots: t.validBallots,
    winners: t.winners,
    rounds: t.rounds.map((r) => ({
      number: r.number,
      counts: r.counts.map((c) => ({ candidateId: c.candidateId, votes: c.votes })),
      exhausted: r.exhausted,
      quota: r.quota ?? "",
      elected: r.elected,
      eliminated: r.eliminated,
      transfers: r.transfers.map((x) => ({ fromCandidateId: x.from, kind: KIND[x.kind], to: x.to.map((c) => ({ candidateId: c.candidateId, votes: c.votes })), exhausted: x.exhausted })),
    })),
    pairwise: t.pairwise && { candidateIds: t.pairwise.candidates, matrix: rows(t.pairwise.matrix), strongest: rows(t.pairwise.strongest) },
    ranking: (t.ranking ?? []).map((g) => ({ candidateIds: g })),
    ties: t.ties.map((x) => ({ round: x.round ?? 0, among: x.among, chosen: x.chosen, decides: x.decides, rule: x.rule, detail: x.detail })),
    notes: t.notes,
  };
}
