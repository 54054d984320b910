// Commits the verified entries of every followed election: one transaction holds the counts
// and progress of all elections that are due, each election's counts and progress together,
// so that a restart resumes each from its last committed seq with the counts that belong to it.
import { choicesKey } from "@voting/election-core";
import type { TallyChange, TallyRepository, TallySnapshot } from "../db/tally-repository.js";
import type { Entry } from "./tally-book.js";

export interface CommitterOptions {
  repo: TallyRepository;
  onCounted(electionId: number): void;
  /** After each transaction: its entries, and the seconds from receiving the oldest of them to the commit (metrics). */
  onApplied?(entries: number, seconds: number): void;
  /** Least time between the starts of two transactions. */
  minApplyIntervalMs: number;
  /** While a backlog streams in, entries of an election that wait for one transaction... */
  catchUpEntries: number;
  /** ...or for this long at most (so that counts still show progress on a slow machine). */
  catchUpMaxMs: number;
  /** Verified entries of an election that may wait for a transaction before its stream is read further. */
  maxPendingEntries: number;
}

export interface LaneOptions {
  electionId: number;
  /** The committed state; updated after each commit. */
  state: TallySnapshot;
  /** The log's head seq when the stream started: entries up to it are a backlog. */
  catchUpTo: number;
  /** Ends the stream: a commit failed, or another tally-server moved the progress. */
  stop(): void;
}

/** Live entries waiting at once beyond which transactions are spaced by their own duration. */
const BACKLOG_ENTRIES = 1_000;

interface Lane extends LaneOptions {
  delta: Map<string, number>;
  entries: number;
  head: { seq: number; hash: string };
  /** When the oldest waiting entry was received. */
  since: number;
  /** When the last transaction holding this election's entries started. */
  lastStart: number;
  /** In the running transaction. */
  inflight: boolean;
  c: { stale: boolean; error: unknown };
}

/**
 * At most one transaction at a time, and one per minApplyIntervalMs, across elections. Entries
 * verified while one runs wait, merged by ranking, for the next. Live ballots go out every
 * interval, every election's in the same transaction (with ten elections open, one
 * transaction and one sync to disk instead of ten). An election's backlog (its log up to the
 * head when its stream started) goes in transactions of catchUpEntries, and the rest of it
 * once it is all in: a transaction costs about one upsert per distinct ranking in it, and a
 * long log's rankings repeat only across many entries, so few large ones count it for less.
 * Sized by entries, not time, so that a slow machine does not commit more often per ballot.
 */
export function committer(o: CommitterOptions) {
  const { repo } = o;
  const lanes = new Set<Lane>();
  let lastStart = 0;
  let lastTook = 0;
  let inflight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerDue = 0;

  const usable = (l: Lane) => l.entries > 0 && !l.c.stale && l.c.error === undefined;

  /** When the lane's waiting entries should be committed. */
  function dueOf(l: Lane): number {
    let due = lastStart + o.minApplyIntervalMs;
    if (l.head.seq < l.catchUpTo) {
      if (l.entries < o.catchUpEntries) due = Math.max(due, l.lastStart + o.catchUpMaxMs);
    } else if (l.entries >= BACKLOG_ENTRIES) {
      // Many live ballots at once: transactions, each mostly a sync to disk, take at most a quarter of the time.
      due = Math.max(due, lastStart + 3 * lastTook);
    }
    return due;
  }

  /** Commits the waiting entries of `must` (if any) and of every lane that is due. */
  function commit(must?: Lane): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const now = Date.now();
    const take = [...lanes].filter((l) => usable(l) && (l === must || dueOf(l) <= now));
    if (take.length === 0) return Promise.resolve();
    const changes: TallyChange[] = [];
    const heads: { seq: number; hash: string }[] = [];
    const sizes: number[] = [];
    let receivedAt = Infinity;
    for (const l of take) {
      changes.push({ electionId: l.electionId, fromSeq: l.state.lastSeq, to: l.head, delta: l.delta });
      heads.push(l.head);
      sizes.push(l.entries);
      receivedAt = Math.min(receivedAt, l.since);
      l.delta = new Map();
      l.entries = 0;
      l.lastStart = now;
      l.inflight = true;
    }
    lastStart = now;
    inflight = repo
      .apply(changes)
      .then((applied) => {
        let n = 0;
        take.forEach((l, i) => {
          if (!applied[i]) {
            l.c.stale = true;
            return l.stop();
          }
          const { delta } = changes[i];
          for (const [key, k] of delta) l.state.ballots.set(key, (l.state.ballots.get(key) ?? 0) + k);
          l.state.lastSeq = heads[i].seq;
          l.state.lastHash = heads[i].hash;
          n += sizes[i];
          o.onCounted(l.electionId);
        });
        if (n > 0) o.onApplied?.(n, (Date.now() - receivedAt) / 1e3);
      })
      .catch((err: unknown) => {
        for (const l of take) {
          l.c.error = err;
          l.stop();
        }
      })
      .finally(() => {
        lastTook = Date.now() - lastStart;
        inflight = undefined;
        for (const l of take) l.inflight = false;
        kick();
      });
    return inflight;
  }

  function kick() {
    if (inflight) return;
    let due = Infinity;
    for (const l of lanes) if (usable(l)) due = Math.min(due, dueOf(l));
    const wait = due - Date.now();
    // A timer that fires no later can stay (it looks again): one per interval, not one per batch.
    if (timer && timerDue <= due && wait > 0) return;
    clearTimeout(timer);
    timer = undefined;
    if (due === Infinity) return;
    if (wait > 0) {
      timerDue = due;
      timer = setTimeout(() => ((timer = undefined), kick()), wait);
    } else void commit();
  }

  return {
    /** One stream's entries of one election, counted on top of `state`; close it when the stream ends. */
    lane(lo: LaneOptions) {
      const l: Lane = { ...lo, delta: new Map(), entries: 0, head: { seq: lo.state.lastSeq, hash: lo.state.lastHash }, since: 0, lastStart: 0, inflight: false, c: { stale: false, error: undefined } };
      lanes.add(l);
      const ok = () => !l.c.stale && l.c.error === undefined;
      return {
        get stale() {
          return l.c.stale;
        },
        get error() {
          return l.c.error;
        },
        /** Entries whose chain and commitments were checked, up to `to`. */
        add(batch: Entry[], to: { seq: number; hash: string }) {
          if (l.entries === 0) l.since = Date.now();
          for (const e of batch) {
            const key = choicesKey(e.choices!);
            l.delta.set(key, (l.delta.get(key) ?? 0) + 1);
          }
          l.entries += batch.length;
          l.head = to;
          kick();
        },
        /** Waits while maxPendingEntries are waiting for their transaction. */
        async room() {
          while (l.entries >= o.maxPendingEntries && ok()) await (inflight ?? commit(l));
        },
        /** Commits whatever waits, now. */
        async drain() {
          while ((l.inflight || l.entries > 0) && ok()) await (inflight ?? commit(l));
        },
        /** Commits whatever waits (unless a commit failed), then lets go of the lane. */
        async close() {
          await this.drain();
          lanes.delete(l);
          if (lanes.size === 0) {
            clearTimeout(timer);
            timer = undefined;
          }
        },
      };
    },
  };
}

export type Committer = ReturnType<typeof committer>;
