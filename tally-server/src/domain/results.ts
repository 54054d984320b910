// Results from the counted multiset with the election's method, explained by the tally
// library. A result is computed once per counted seq and shared by every reader.
import { ballotGroupOf, parseChoicesKey, tabulate, type TallyResult } from "@voting/election-core";
import type { Upstream } from "@voting/server-kit";
import type { ElectionInfo, TallyBook } from "./tally-book.js";

export interface ElectionResult {
  electionId: number;
  title: string;
  tally: TallyResult | undefined;
  totalBallots: number;
  countedThroughSeq: number;
  logHeadHash: string;
  computedAt: Date;
  /** Results hidden until the close: only totalBallots is shown. */
  embargoed: boolean;
  /** Closed and every ballot counted. */
  final: boolean;
  /** The signed final result statement, once final. */
  statement?: string;
  /** Integrity alarms about this election, e.g. a broken ballot chain ("kind: detail"). */
  integrityAlarms: string[];
}

export function resultsOf(book: Pick<TallyBook, "result" | "refreshInfo" | "peekResult">, sign: (r: ElectionResult) => Promise<string>, alarmsOf: (electionId: number) => string[] = () => []) {
  // `info`, `lastSeq` and `alarms`: what the key was made of, to see without building it that nothing changed.
  const cache = new Map<number, { key: string; result: ElectionResult; tookMs: number; info: ElectionInfo; lastSeq: number; alarms: string[] }>();
  const inflight = new Map<number, Promise<ElectionResult>>();

  const fresh = (electionId: number, upstream?: Upstream): Promise<ElectionResult> => {
    let p = inflight.get(electionId);
    if (!p) {
      p = computeNow(electionId, upstream).finally(() => inflight.delete(electionId));
      inflight.set(electionId, p);
    }
    return p;
  };

  /**
   * For readers: a big ranked count takes a while, so while ballots keep coming the last
   * result (which says how far it counted) is served until it is older than twice what
   * computing it took. Otherwise the cached result if the very inputs it was made from are
   * still the live ones (same info object, counted seq and alarms); undefined when a wait is needed.
   */
  const peek = (electionId: number): ElectionResult | undefined => {
    const hit = cache.get(electionId);
    if (!hit) return undefined;
    if (hit.tookMs > 25 && Date.now() - hit.result.computedAt.getTime() < 2 * hit.tookMs) return hit.result;
    const live = book.peekResult(electionId);
    return live && live.info === hit.info && live.state.lastSeq === hit.lastSeq && sameList(alarmsOf(electionId), hit.alarms) ? hit.result : undefined;
  };

  return {
    /** The result of everything counted so far. */
    fresh,
    /** The current result if it is at hand without waiting (see peek), else undefined: then `current`. */
    peek,
    /** The current result for readers (see peek), computing it if needed. */
    current(electionId: number, upstream?: Upstream): Promise<ElectionResult> {
      const now = peek(electionId);
      return now ? Promise.resolve(now) : fresh(electionId, upstream);
    },
  };

  async function computeNow(electionId: number, upstream?: Upstream): Promise<ElectionResult> {
    let { info, state } = await book.result(electionId, upstream);
    // The materialised result stands until something that changes the answer does; no await
    // from here to the tally, so the live counted state cannot move under it.
    let key = keyOf(electionId, info, state.lastSeq);
    const hit = cache.get(electionId);
    if (hit?.key === key) {
      // The same answer from a newer info object (read again after its TTL): peek may use it now.
      hit.info = info;
      return hit.result;
    }
    if (unknownCandidates(info, state.ballots).length > 0) {
      // A candidate registered after the list was read; read it again.
      book.refreshInfo(electionId);
      ({ info, state } = await book.result(electionId, upstream));
      key = keyOf(electionId, info, state.lastSeq);
    }
    const embargoed = isEmbargoed(info);
    const final = isFinal(info, state.lastSeq);
    const started = performance.now();
    let total = 0;
    for (const n of state.ballots.values()) total += n;
    const tally = embargoed ? undefined : tallyOf(info, state.ballots, state.lastHash);
    const result: ElectionResult = {
      electionId,
      title: info.title,
      tally,
      totalBallots: total,
      countedThroughSeq: state.lastSeq,
      logHeadHash: state.lastHash,
      computedAt: new Date(),
      embargoed,
      final,
      integrityAlarms: alarmsOf(electionId),
    };
    if (final) result.statement = await sign(result);
    // What the key was made of (the live state may have moved during the signing).
    cache.set(electionId, { key, result, tookMs: performance.now() - started, info, lastSeq: result.countedThroughSeq, alarms: [...result.integrityAlarms] });
    return result;
  }

  /** Everything the answer depends on: what is counted, embargo, finality, the candidates and title, the alarms. */
  function keyOf(electionId: number, info: ElectionInfo, lastSeq: number): string {
    const candidates = info.candidates.map((c) => `${c.id}:${c.name}`).join(",");
    return `${lastSeq}|${isEmbargoed(info)}|${isFinal(info, lastSeq)}|${info.title}|${candidates}|${alarmsOf(electionId).join("|")}`;
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

const isEmbargoed = (info: ElectionInfo) => !info.resultsWhileOpen && info.state !== "closed";
const isFinal = (info: ElectionInfo, lastSeq: number) => info.state === "closed" && lastSeq >= info.ballotCount;

/** Ids on counted ballots that the election's candidate list does not name. */
function unknownCandidates(info: ElectionInfo, ballots: ReadonlyMap<string, number>): number[] {
  const known = new Set(info.candidates.map((c) => c.id));
  const unknown = new Set<number>();
  for (const key of ballots.keys()) for (const id of parseChoicesKey(key)) if (!known.has(id)) unknown.add(id);
  return [...unknown];
}

function tallyOf(info: ElectionInfo, ballots: ReadonlyMap<string, number>, headHash: string): TallyResult {
  const groups = [...ballots].map(([key, count]) => ballotGroupOf(info.method, key, count));
  // Every counted ballot was for a candidate when it was cast: never drop one from the count.
  const candidates = [...info.candidates, ...unknownCandidates(info, ballots).map((id) => ({ id, name: `candidate ${id}` }))];
  // Lots are drawn from the log's head hash: anyone recounting the published log gets the same draw.
  return tabulate(candidates, groups, { method: info.method, seats: info.seats, tieBreakSeed: headHash });
}
