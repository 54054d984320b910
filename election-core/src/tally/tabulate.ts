// The one entry point: every method, one explained result.
import { prepareBallots } from "./ballots.js";
import { tabulateIrv } from "./irv.js";
import type { RankingMultiset } from "./multiset.js";
import { resolveOptions } from "./options.js";
import { tabulatePluralityApproval } from "./plurality-approval.js";
import { tabulateSchulze } from "./schulze.js";
import { tabulateStv } from "./stv.js";
import type { BallotGroup, Candidate, TallyOptions, TallyResult } from "./types.js";

/**
 * Counts a multiset of ballots by the method in `options`. Ids in ballots that are not in
 * `candidates` are passed over (this is how withdrawn candidates are left out). Throws
 * TallyInputError for bad options, duplicate candidate ids or bad counts. A RankingMultiset
 * (e.g. from readBlt) names candidates by id, so their ids must be 1 to 65535.
 */
export function tabulate(candidates: Candidate[], ballots: Iterable<BallotGroup> | RankingMultiset, options: TallyOptions): TallyResult {
  const opts = resolveOptions(options);
  const prep = prepareBallots(candidates, ballots);
  switch (opts.method) {
    case "plurality":
    case "approval":
      return tabulatePluralityApproval(prep, opts);
    case "irv":
      return tabulateIrv(prep, opts);
    case "stv":
      return tabulateStv(prep, opts);
    case "schulze":
      return tabulateSchulze(prep, opts);
  }
}
