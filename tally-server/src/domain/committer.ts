// Commits the verified entries of one election: counts and progress in one transaction, so
// that a restart resumes from the last committed seq with the counts that belong to it.
import { choicesKey } from "@voting/election-core";
import type { TallyRepository, TallySnapshot } from "../db/tally-repository.js";
import type { Entry } from "./tally-book.js";

export interface CommitterOptions {
  repo: TallyRepository;
  electionId: number;
  /** The committed state; updated after each commit. */
  state: TallySnapshot;
  /** Ends the stream: a commit failed, or another tally-server moved the progress. */
  stop(): void;
  onCounted(electionId: number): void;
  onApplied?(entries: number, seconds: number): void;
  /** Least time between the starts of two transactions. */
  minApplyIntervalMs: number;
  /** The log's head seq when the stream started: entries up to it are a backlog. */
  catchUpTo: number;
  /** While the backlog streams in, entries that wait for one transaction... */
  catchUpEntries: number;
  /** ...or for this long at most (so that counts still show progress on a slow machine). */
  catchUpMaxMs: number;
  /** Verified entries that may wait for a transaction before the stream is read further. */
  maxPendingEntries: number;
}

/** Live entries waiting at once beyond which transactions are spaced by their own duration. */
const BACKLOG_ENTRIES = 1_000;

/**
 * At most one transaction at a time, and one per minApplyIntervalMs. Entries verified while
 * one runs wait, merged by ranking, for the next. Live ballots go out every interval. The
 * backlog (the log up to its head when the stream started) goes in transactions of
 * catchUpEntries, and the rest of it once it is all in: a transaction costs about one upsert
 * per distinct ranking in it, and a long log's rankings repeat only across many entries, so
 * few large ones count it for less. Sized by entries, not time, so that a slow machine does
 * not commit more often per ballot.
 */
export function committer(o: CommitterOptions) {
  const { repo, electionId: id, state } = o;
  let delta = new Map<string, number>();
  let entries = 0;
  let head = { seq: state.lastSeq, hash: state.lastHash };
  let since = 0;
  let lastStart = 0;
  let lastTook = 0;
  let inflight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const c = { stale: false, error: undefined as unknown, add, drain, room };

  function commit(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const [d, n, to, from, receivedAt] = [delta, entries, head, state.lastSeq, since];
    delta = new Map();
    entries = 0;
    lastStart = Date.now();
    inflight = repo
      .apply(id, from, to, d)
      .then((applied) => {
        if (!applied) {
          c.stale = true;
          return o.stop();
        }
        for (const [key, k] of d) state.ballots.set(key, (state.ballots.get(key) ?? 0) + k);
        state.lastSeq = to.seq;
        state.lastHash = to.hash;
        o.onCounted(id);
        o.onApplied?.(n, (Date.now() - receivedAt) / 1e3);
      })
      .catch((err: unknown) => {
        c.error = err;
        o.stop();
      })
      .finally(() => {
        lastTook = Date.now() - lastStart;
        inflight = undefined;
        kick();
      });
    return inflight;
  }

  function kick() {
    if (inflight || entries === 0 || c.stale || c.error !== undefined) return;
    // Each batch may change when (a full catch-up transaction: now).
    clearTimeout(timer);
    timer = undefined;
    let due = lastStart + o.minApplyIntervalMs;
    if (head.seq < o.catchUpTo) {
      if (entries < o.catchUpEntries) due = Math.max(due, lastStart + o.catchUpMaxMs);
    } else if (entries >= BACKLOG_ENTRIES) {
      // Many live ballots at once: transactions, each mostly a sync to disk, take at most a quarter of the time.
      due = Math.max(due, lastStart + 3 * lastTook);
    }
    const wait = due - Date.now();
    if (wait > 0) timer = setTimeout(() => ((timer = undefined), kick()), wait);
    else void commit();
  }

  /** Entries whose chain and commitments were checked, up to `to`. */
  function add(batch: Entry[], to: { seq: number; hash: string }) {
    if (entries === 0) since = Date.now();
    for (const e of batch) {
      const key = choicesKey(e.choices!);
      delta.set(key, (delta.get(key) ?? 0) + 1);
    }
    entries += batch.length;
    head = to;
    kick();
  }

  /** Waits while maxPendingEntries are waiting for their transaction. */
  async function room() {
    while (entries >= o.maxPendingEntries && !c.stale && c.error === undefined) await (inflight ?? commit());
  }

  /** Commits whatever waits, now. */
  async function drain() {
    while ((inflight || entries > 0) && !c.stale && c.error === undefined) await (inflight ?? commit());
    clearTimeout(timer);
  }
  return c;
}
