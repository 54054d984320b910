// The tally as a materialised view of each election's ballot log. For every election it
// follows StreamBallots from the last seq it applied, checks the hash chain, and commits
// counts and progress together, so restarts and dropped streams lose and double nothing.
import { checkChain, type LogEntryContent, type LogFormat, type Method } from "@voting/election-core";
import { FailedPreconditionError, NotFoundError, type Logger, type Upstream } from "@voting/server-kit";
import type { TallyRepository, TallySnapshot } from "../db/tally-repository.js";
import { committer as makeCommitter } from "./committer.js";

export interface ElectionInfo {
  id: number;
  title: string;
  method: Method;
  seats: number;
  state: "draft" | "open" | "closed";
  resultsWhileOpen: boolean;
  /** Entries in the log when this was read. */
  ballotCount: number;
  genesisHash: string;
  logFormat: LogFormat;
  candidates: { id: number; name: string }[];
}

export type Entry = LogEntryContent & { hash: string };

/** How long an election's info from vote-server (title, candidates, state) is used before it is asked again. */
const INFO_TTL_MS = 1_000;

interface CachedInfo {
  at: number;
  info: Promise<ElectionInfo | undefined>;
  /** Once the lookup has answered: for readers that need no wait (peekResult). */
  value?: ElectionInfo;
}

export interface VotePort {
  /** undefined when vote-server has no such election; `upstream`: the call asking, whose deadline the lookup keeps. */
  getElection(id: number, upstream?: Upstream): Promise<ElectionInfo | undefined>;
  /** Elections that have a ballot log (open or closed), with their state. */
  listElections(): Promise<{ id: number; state: ElectionInfo["state"] }[]>;
  /** Batches of consecutive entries after afterSeq, following new ones until signal aborts. */
  streamBallots(electionId: number, afterSeq: number, signal: AbortSignal): AsyncIterable<Entry[]>;
}

export interface TallyBookOptions {
  repo: TallyRepository;
  votes: VotePort;
  log: Logger;
  onCounted(electionId: number): void;
  onChainBroken(electionId: number, reason: string): void;
  /** Called after each tally transaction with its entries and the seconds from receiving the oldest of them to the commit (metrics). */
  onApplied?(entries: number, seconds: number): void;
  /** Least time between the starts of two tally transactions (one holds every election's live entries). */
  minApplyIntervalMs?: number;
  /** While a backlog streams in, entries that wait for one transaction, or for catchUpMaxMs at most (see committer). */
  catchUpEntries?: number;
  catchUpMaxMs?: number;
  /** Verified entries that may wait for a transaction before the stream is read further. */
  maxPendingEntries?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

export function tallyBook({ repo, votes, log, onCounted, onChainBroken, onApplied, minApplyIntervalMs = 25, catchUpEntries = 250_000, catchUpMaxMs = 10_000, maxPendingEntries = 500_000 }: TallyBookOptions) {
  const states = new Map<number, TallySnapshot>();
  const loading = new Map<number, Promise<TallySnapshot>>();
  const infoCache = new Map<number, CachedInfo>();
  const following = new Set<number>();
  // One for all elections: their live entries go in one transaction.
  const committer = makeCommitter({ repo, onCounted, onApplied, minApplyIntervalMs, catchUpEntries, catchUpMaxMs, maxPendingEntries });

  // Last state seen of each election, by discovery or by a lookup; a change means a new result.
  const seenState = new Map<number, string>();
  const electionInfo = (id: number, upstream?: Upstream): Promise<ElectionInfo | undefined> => {
    const hit = infoCache.get(id);
    if (hit && Date.now() - hit.at < INFO_TTL_MS) return hit.info;
    const info = votes.getElection(id, upstream).then((i) => {
      if (i && !seenState.has(id)) seenState.set(id, i.state);
      return i;
    });
    const entry: CachedInfo = { at: Date.now(), info };
    infoCache.set(id, entry);
    info.then(
      (i) => (entry.value = i),
      () => infoCache.delete(id),
    );
    return info;
  };

  const snapshot = (id: number): Promise<TallySnapshot> => {
    const ready = states.get(id);
    if (ready) return Promise.resolve(ready);
    let pending = loading.get(id);
    if (!pending) {
      pending = (async () => {
        const stored = await repo.load(id);
        if (stored) return stored;
        const info = await electionInfo(id);
        if (!info) throw new NotFoundError(`election ${id} not found`, { reason: "ELECTION_NOT_FOUND" });
        if (info.state === "draft") throw new FailedPreconditionError(`election ${id} is a draft; it has no ballots yet`, { reason: "ELECTION_NOT_OPEN", metadata: { electionId: String(id) } });
        return { lastSeq: 0, lastHash: info.genesisHash, ballots: new Map<string, number>() };
      })()
        .then((s) => (states.set(id, s), s))
        .finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  };

  async function follow(id: number, signal: AbortSignal): Promise<void> {
    let backoff = 200;
    while (!signal.aborted) {
      // Ends this attempt's stream when the follow stops or a commit fails.
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      signal.addEventListener("abort", stop, { once: true });
      let counting: ReturnType<typeof committer.lane> | undefined;
      try {
        const state = await snapshot(id);
        const info = await electionInfo(id);
        if (!info) throw new NotFoundError(`election ${id} not found`, { reason: "ELECTION_NOT_FOUND" });
        counting = committer.lane({ electionId: id, state, stop, catchUpTo: info.ballotCount });
        let verified = { seq: state.lastSeq, hash: state.lastHash };
        let broken: string | undefined;
        for await (const entries of votes.streamBallots(id, state.lastSeq, attempt.signal)) {
          // Every ballot must come opened (tally-server reads as the service account) and open its commitment.
          const check = checkChain(info.logFormat, verified, entries, { requireBallots: true });
          if (!check.ok) {
            broken = check.reason;
            break;
          }
          verified = { seq: check.headSeq, hash: check.headHash };
          counting.add(entries, verified);
          await counting.room();
          if (attempt.signal.aborted) break;
        }
        // What was verified before a break is counted, as it would have been before the break.
        await counting.drain();
        if (counting.error !== undefined) throw counting.error;
        if (signal.aborted) return;
        if (broken !== undefined && !counting.stale) return onChainBroken(id, broken);
        if (!counting.stale) backoff = 200;
        // Another tally-server applied these entries first: start again from the store.
        else states.delete(id);
      } catch (err) {
        if (signal.aborted) return;
        log.warn({ electionId: id, err: (err as Error).message }, "ballot stream interrupted; resuming");
      } finally {
        signal.removeEventListener("abort", stop);
        attempt.abort();
        await counting?.close();
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }

  let running: { signal: AbortSignal; runs: Promise<void>[] } | undefined;
  const ensureFollowing = (id: number) => {
    if (!running || following.has(id)) return;
    following.add(id);
    running.runs.push(follow(id, running.signal));
  };

  return {
    /** Follows every election vote-server lists, now and every couple of seconds, until signal aborts. */
    async run(signal: AbortSignal, discoverEveryMs = 2_000): Promise<void> {
      const runs: Promise<void>[] = [];
      running = { signal, runs };
      while (!signal.aborted) {
        try {
          for (const { id, state } of await votes.listElections()) {
            // A close changes the result (it becomes final) without any new ballot.
            if (seenState.has(id) && seenState.get(id) !== state) {
              infoCache.delete(id);
              onCounted(id);
            }
            seenState.set(id, state);
            ensureFollowing(id);
          }
        } catch (err) {
          log.warn({ err: (err as Error).message }, "cannot list elections; retrying");
        }
        await sleep(following.size === 0 ? 500 : discoverEveryMs, signal);
      }
      await Promise.all(runs);
    },

    /** Forgets the cached election (e.g. its candidate list is out of date). */
    refreshInfo(id: number) {
      infoCache.delete(id);
    },

    /**
     * The election and its live counted state: not a copy (a copy per GetResults call was most
     * of its cost), so read it before the next await; it changes as batches are applied.
     */
    async result(id: number, upstream?: Upstream): Promise<{ info: ElectionInfo; state: Readonly<TallySnapshot> }> {
      const info = await electionInfo(id, upstream);
      if (!info) throw new NotFoundError(`election ${id} not found`, { reason: "ELECTION_NOT_FOUND" });
      const s = await snapshot(id);
      // Someone asked before discovery found it: follow it now.
      ensureFollowing(id);
      return { info, state: s };
    },

    /** What result() would give now, when that needs no wait (the election's info is cached and fresh, its state loaded); else undefined. */
    peekResult(id: number): { info: ElectionInfo; state: Readonly<TallySnapshot> } | undefined {
      const hit = infoCache.get(id);
      const s = states.get(id);
      if (!hit?.value || !s || Date.now() - hit.at >= INFO_TTL_MS) return undefined;
      ensureFollowing(id);
      return { info: hit.value, state: s };
    },
  };
}

export type TallyBook = ReturnType<typeof tallyBook>;
