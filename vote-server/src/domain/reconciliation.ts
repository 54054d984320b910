// Every ballot in the log has exactly one voter recorded as having voted, and the other way
// round: the log's length, its highest seq, the head the service keeps and the turnout must
// all agree. A ballot or participation written straight into the store breaks that.
import type { BallotRepository } from "../db/ballot-repository.js";
import type { ElectionRepository } from "../db/election-repository.js";

export interface Mismatch {
  electionId: number;
  headSeq: number;
  ballots: number;
  maxSeq: number;
  turnout: number;
}

export async function reconcile(elections: ElectionRepository, ballots: BallotRepository): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  for (let afterId = 0; ; ) {
    const page = await elections.list({ afterId, limit: 500 });
    if (page.length === 0) return out;
    for (const e of page) {
      if (e.state === "draft") continue;
      const l = await ballots.ledger(e.id);
      if (l.ballots !== l.headSeq || l.maxSeq !== l.headSeq || l.turnout !== l.headSeq) {
        out.push({ electionId: e.id, headSeq: l.headSeq, ballots: l.ballots, maxSeq: l.maxSeq, turnout: l.turnout });
      }
    }
    afterId = page[page.length - 1].id;
  }
}
