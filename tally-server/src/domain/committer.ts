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
  /** Least time between the starts of two transactions while a backlog streams in. */
  catchUpIntervalMs: number;
  /** Verified entries that may wait for a transaction before the stream is read further. */
  maxPendingEntries: number;
}

/** Entries waiting at once beyond which the tally is catching up rather than following live votes. */
const BACKLOG_ENTRIES = 1_000;
/** A stream without entries for this long has caught up (pages of a backlog follow closer on a busy machine too). */
const QUIET_MS = 100;

/**
 * At most one transaction at a time, and one per minApplyIntervalMs. Entries verified while
 * one runs wait, merged by ranking, for the next. Live ballots go out every interval; a
 * backlog (a page or more waiting) is committed every catchUpIntervalMs, or as soon as the
 * stream goes quiet: a transaction's cost grows with the distinct rankings it upserts, not
 * with the ballots, so fewer, larger ones count a long log for less.
 */
export function committer(o: CommitterOptions) {
  const { repo, electionId: id, state } = o;
  let delta = new Map<string, number>();
  let entries = 0;
  let head = { seq: state.lastSeq, hash: state.lastHash };
  let since = 0;
  let lastAdd = 0;
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
    if (inflight || timer || entries === 0 || c.stale || c.error !== undefined) return;
    let due = lastStart + o.minApplyIntervalMs;
    if (entries >= BACKLOG_ENTRIES) {
      // Transactions take at most a quarter of the time; a quiet stream has caught up.
      const catchUp = lastStart + Math.max(o.catchUpIntervalMs, 3 * lastTook);
      due = Math.max(due, Math.min(catchUp, lastAdd + QUIET_MS));
    }
    const wait = due - Date.now();
    if (wait > 0) timer = setTimeout(() => ((timer = undefined), kick()), wait);
    else void commit();
  }

  /** Entries whose chain and commitments were checked, up to `to`. */
  function add(batch: Entry[], to: { seq: number; hash: string }) {
    lastAdd = Date.now();
    if (entries === 0) since = lastAdd;
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
