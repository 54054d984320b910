// StreamBallots readers. One tail per followed election reads the log (once per append
// announced here, and by polling for appends by other replicas) and hands each batch, the
// same objects, to every follower, so followers cost no database reads. A follower that starts
// behind the tail's window reads pages from the database until it reaches it, then joins.
// A follower whose queue outgrows its bound is dropped, never buffered without bound.
import { ResourceExhaustedError } from "@voting/server-kit";
import type { LogRow } from "../db/ballot-repository.js";

/** Consecutive log entries; `first`..`last` are the seqs of the first and last row. */
export interface LogBatch {
  readonly rows: readonly LogRow[];
  readonly first: number;
  readonly last: number;
}

export interface LogSource {
  readLog(electionId: number, afterSeq: number, limit: number): Promise<LogRow[]>;
  /** The seq of the election's last committed entry. */
  headSeq(electionId: number): Promise<number>;
}

export interface LogFeedOptions {
  /** Most entries per read and per batch. */
  pageEntries: number;
  /** Entries a follower may have waiting to be sent before it is dropped as too slow. */
  maxQueuedEntries: number;
  /** Recent entries each tail keeps for followers that join it. */
  windowEntries?: number;
  /** How often a tail looks for appends made by other replicas. */
  pollMs?: number;
  /**
   * After handing out a batch, a tail rests this many times as long as handing it out took
   * (the writes it set off included): fan-out to many followers takes about 1/(1+n) of the
   * process at most, and bursts coalesce into fewer, larger batches; public followers lag
   * behind a burst of votes rather than slow it down. Default 9.
   * Priority followers (the tally) have their own tail, which never rests.
   */
  fanoutRest?: number;
  onError?(err: unknown): void;
}

/** One StreamBallots reader. */
export interface LogFollower {
  /** The next batches in order; undefined at the end or once closed; throws when dropped as too slow. */
  next(): Promise<LogBatch[] | undefined>;
  /** Waits for `p`, or until the follower ends (throwing when it was dropped). */
  until(p: Promise<void>): Promise<void>;
  close(): void;
}

export interface LogFeed {
  /** A reader of the election's log after `afterSeq`; with `follow`, it waits for new entries. */
  follow(electionId: number, afterSeq: number, follow: boolean, priority?: boolean): LogFollower;
  /**
   * Called by this replica's ballot box after a commit, with the entries it committed (in seq
   * order), which are then served without reading them back from the store.
   */
  appended(electionId: number, headSeq: number, rows?: readonly LogRow[]): void;
  stats(): { followers: number; tails: number; reads: number };
  /** Ends every reader (shutdown). */
  close(): void;
}

const MAX_REST_MS = 10_000;
const FANOUT_SLICE = 100;

const batchOf = (rows: readonly LogRow[]): LogBatch => ({ rows, first: rows[0].seq, last: rows[rows.length - 1].seq });

/** The part of `b` after seq `after` (b itself when all of it is). */
function after(b: LogBatch, seq: number): LogBatch | undefined {
  if (b.first > seq) return b;
  if (b.last <= seq) return undefined;
  return batchOf(b.rows.filter((r) => r.seq > seq));
}

export function logFeed(source: LogSource, opts: LogFeedOptions): LogFeed {
  const page = opts.pageEntries;
  const windowEntries = opts.windowEntries ?? 4 * page;
  const pollMs = opts.pollMs ?? 500;
  const fanoutRest = opts.fanoutRest ?? 9;
  // Keyed by election id, negative for the priority tail.
  const tails = new Map<number, Tail>();
  const everyone = new Set<Follower>();
  let reads = 0;
  // Per election, the latest entries this replica committed, consecutive seqs: a tail's read
  // they cover needs no store (like the tail's window). Readers catching up read the store.
  // A gap (another replica's commit) starts them afresh.
  const recent = new Map<number, LogRow[]>();
  const remember = (electionId: number, rows: readonly LogRow[]) => {
    if (rows.length === 0) return;
    let kept = recent.get(electionId);
    if (!kept || kept[kept.length - 1].seq + 1 !== rows[0].seq) {
      if (recent.size >= 1_000) recent.clear();
      recent.set(electionId, (kept = []));
    }
    kept.push(...rows);
    if (kept.length > 2 * windowEntries) kept.splice(0, kept.length - windowEntries);
  };
  const read = (electionId: number, afterSeq: number, tail = false) => {
    const kept = tail ? recent.get(electionId) : undefined;
    const i = kept ? afterSeq + 1 - kept[0].seq : -1;
    if (kept && i >= 0 && i < kept.length) return Promise.resolve(kept.slice(i, i + page));
    reads++;
    return source.readLog(electionId, afterSeq, page);
  };

  class Tail {
    base = 0; // every entry after base is in the window
    head = 0; // last seq read
    window: LogBatch[] = [];
    windowSize = 0;
    readonly followers = new Set<Follower>();
    joining = 0;
    disposed = false;
    private started = false;
    private wanted = false;
    private running = false;
    private poll?: NodeJS.Timeout;
    readonly ready: Promise<void>;

    constructor(
      readonly electionId: number,
      readonly key: number,
      private readonly rest: number,
    ) {
      this.ready = source.headSeq(electionId).then((h) => {
        this.base = this.head = h;
        this.started = true;
      });
      this.ready.catch(() => undefined);
    }

    add(f: Follower) {
      this.followers.add(f);
      this.poll ??= setInterval(() => this.poke(), pollMs).unref();
      if (this.wanted) this.poke(); // an append announced while the tail was starting
    }

    remove(f: Follower) {
      this.followers.delete(f);
      this.disposeIfIdle();
    }

    disposeIfIdle() {
      if (this.followers.size > 0 || this.joining > 0 || this.disposed) return;
      this.disposed = true;
      clearInterval(this.poll);
      this.window = [];
      if (tails.get(this.key) === this) tails.delete(this.key);
    }

    poke() {
      this.wanted = true;
      if (this.started && !this.running && !this.disposed && this.followers.size > 0) void this.run();
    }

    private async run() {
      this.running = true;
      try {
        while (this.wanted && !this.disposed) {
          this.wanted = false;
          let rows: LogRow[];
          try {
            rows = await read(this.electionId, this.head, true);
          } catch (err) {
            opts.onError?.(err);
            break; // the next poll tries again
          }
          if (rows.length === 0 || this.disposed) continue;
          if (rows.length === page) this.wanted = true;
          const batch = batchOf(rows);
          this.head = batch.last;
          this.window.push(batch);
          this.windowSize += rows.length;
          while (this.windowSize - this.window[0].rows.length >= windowEntries) {
            const old = this.window.shift()!;
            this.windowSize -= old.rows.length;
            this.base = old.last;
          }
          const started = performance.now();
          const cpu = process.cpuUsage();
          if (this.rest === 0) {
            for (const f of this.followers) f.deliver(batch);
            continue;
          }
          // A slice of followers per turn of the loop, so that votes are served in between.
          const everyone = [...this.followers];
          for (let i = 0; i < everyone.length; i += FANOUT_SLICE) {
            for (const f of everyone.slice(i, i + FANOUT_SLICE)) f.deliver(batch);
            if (i + FANOUT_SLICE < everyone.length) await new Promise((r) => setImmediate(r));
          }
          // Two turns of the loop let the writes reach the sockets; the CPU spent meanwhile
          // (kernel included, and whatever else ran: it errs towards resting) is their cost.
          for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
          const used = process.cpuUsage(cpu);
          const cost = Math.max(performance.now() - started, (used.user + used.system) / 1000);
          const rest = Math.min(MAX_REST_MS, cost * this.rest);
          if (rest >= 1) await new Promise((r) => setTimeout(r, rest).unref());
        }
      } finally {
        this.running = false;
      }
    }
  }

  const keyOf = (electionId: number, priority: boolean) => (priority ? -electionId : electionId);
  const tailOf = (electionId: number, priority: boolean) => {
    const key = keyOf(electionId, priority);
    let t = tails.get(key);
    if (!t || t.disposed) tails.set(key, (t = new Tail(electionId, key, priority ? 0 : fanoutRest)));
    return t;
  };

  class Follower implements LogFollower {
    private queue: LogBatch[] = [];
    private queued = 0;
    private tail?: Tail;
    private wake?: () => void;
    private done = false;
    private error?: Error;

    constructor(
      private readonly electionId: number,
      /** Last seq handed out (or queued). */
      private position: number,
      private readonly follow: boolean,
      private readonly priority: boolean,
    ) {
      everyone.add(this);
    }

    async next(): Promise<LogBatch[] | undefined> {
      for (;;) {
        if (this.error) throw this.error;
        if (this.done) return undefined;
        if (this.queue.length > 0) {
          const out = this.queue;
          this.queue = [];
          this.queued = 0;
          return out;
        }
        if (this.tail) {
          await new Promise<void>((r) => (this.wake = r));
          this.wake = undefined;
          continue;
        }
        // Try the tail once the store has nothing more for us, or when one is running anyway.
        if (this.follow && (this.caughtUp || tails.has(keyOf(this.electionId, this.priority))) && (await this.join())) continue;
        if (this.done) continue;
        const rows = await read(this.electionId, this.position);
        if (this.done) continue;
        if (rows.length > 0) this.position = rows[rows.length - 1].seq;
        this.caughtUp = rows.length < page;
        // Nothing after us in the store: joining now leaves no gap, whatever the tail holds.
        this.joinAnyway = rows.length === 0;
        if (this.caughtUp && !this.follow) this.close();
        if (rows.length > 0) return [batchOf(rows)];
      }
    }

    private caughtUp = false;
    private joinAnyway = false;

    /** Joins the election's tail when it holds everything after our position. */
    private async join(): Promise<boolean> {
      const tail = tailOf(this.electionId, this.priority);
      tail.joining++;
      try {
        await tail.ready;
        if (this.done || tail.disposed || (this.position < tail.base && !this.joinAnyway)) return false;
        for (const b of tail.window) {
          const part = after(b, this.position);
          if (part) this.enqueue(part);
        }
        this.tail = tail;
        tail.add(this);
        return true;
      } finally {
        tail.joining--;
        tail.disposeIfIdle();
      }
    }

    private enqueue(b: LogBatch) {
      this.queue.push(b);
      this.queued += b.rows.length;
      this.position = b.last;
    }

    /** From the tail: a new batch, in order. */
    deliver(batch: LogBatch) {
      const part = after(batch, this.position);
      if (!part || this.done) return;
      this.enqueue(part);
      if (this.queued > opts.maxQueuedEntries) {
        const resumeAfter = this.queue[0].first - 1;
        this.end(
          new ResourceExhaustedError(`reader too slow: more than ${opts.maxQueuedEntries} ballot log entries were waiting for it; reconnect with after_seq ${resumeAfter} or later`, {
            reason: "READER_TOO_SLOW",
            metadata: { afterSeq: String(resumeAfter) },
          }),
        );
        return;
      }
      this.wake?.();
    }

    until(p: Promise<void>): Promise<void> {
      // One waiter slot rather than Promise.race on a shared "ended" promise, which would pile up a reaction
      // per message on a long-lived stream.
      return new Promise<void>((resolve, reject) => {
        const settle = (err?: unknown) => {
          if (this.onEnd === ended) this.onEnd = undefined;
          if (err) reject(err);
          else resolve();
        };
        const ended = () => settle(this.error);
        this.onEnd = ended;
        p.then(() => settle(), settle);
        if (this.done) settle(this.error);
      });
    }

    private onEnd?: () => void;

    close() {
      this.end(undefined);
    }

    private end(error: Error | undefined) {
      if (this.done) return;
      this.done = true;
      this.error = error;
      this.queue = [];
      this.queued = 0;
      everyone.delete(this);
      this.tail?.remove(this);
      this.wake?.();
      this.onEnd?.();
    }
  }

  return {
    follow: (electionId: number, afterSeq: number, follow: boolean, priority = false) => new Follower(electionId, afterSeq, follow, priority),

    appended(electionId: number, headSeq: number, rows?: readonly LogRow[]) {
      if (rows) remember(electionId, rows);
      for (const t of [tails.get(electionId), tails.get(-electionId)]) if (t && headSeq > t.head) t.poke();
    },

    stats: () => ({ followers: everyone.size, tails: tails.size, reads }),

    close() {
      for (const f of [...everyone]) f.close();
    },
  };
}
