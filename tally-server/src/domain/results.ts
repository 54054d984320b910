import { tallyPlurality, type CandidateTally } from "@voting/election-core";
import type { TallyBook } from "./tally-book.js";

export interface ElectionResult {
  electionId: number;
  title: string;
  candidates: CandidateTally[];
  totalBallots: number;
  countedThroughSeq: number;
  logHeadHash: string;
  computedAt: Date;
}

export async function computeResult(book: TallyBook, electionId: number): Promise<ElectionResult> {
  const { info, state } = await book.result(electionId);
  const tally = tallyPlurality(state.ballots, info.candidates);
  return {
    electionId,
    title: info.title,
    candidates: tally.candidates,
    totalBallots: tally.totalBallots,
    countedThroughSeq: state.lastSeq,
    logHeadHash: state.lastHash,
    computedAt: new Date(),
  };
}
