// The ballot box as vote-server's event loop sees it: casts go to the writer thread
// (worker.ts) in one message per turn of the loop, receipts come back once committed.
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { UnavailableError } from "@voting/server-kit";
import type { CastRequest } from "../domain/ballot-box.js";
import type { Receipt } from "../domain/receipts.js";
import type { LogRow } from "../db/ballot-repository.js";
import type { LogKey } from "../domain/transparency-log.js";
import { asBuffer, errorFromWire, ownBytes, packCasts, unpackReceipts, type FromWriter, type ToWriter, type WireCast } from "./wire.js";

export interface BallotWriterOptions {
  databaseUrl: string;
  batchMax: number;
  lingerMs: number;
  logName: string;
  /** The log key now, with an id that changes when it does (it goes to the thread then). */
  logKey(): { kid: string; key: LogKey };
  /** After a commit: the new head and the entries committed, in seq order. */
  onAppended(electionId: number, headSeq: number, rows: LogRow[]): void;
  onCommitted?(batchSize: number, appended: number): void;
  /** A commit failed (its ballots were answered UNAVAILABLE), or the thread died. */
  onCommitFailed?(electionId: number | undefined, batchSize: number, err: Error): void;
}

// The built thread entry (dist/): tests that run the sources use it too, so they need a build.
const WORKER_ENTRY = createRequire(import.meta.url).resolve("@voting/vote-server/ballot-writer");

const notRecorded = (cause?: unknown) => new UnavailableError("the ballot could not be recorded; retry with the same idempotency key", { reason: "BALLOT_NOT_RECORDED", cause });

const keyToWire = (k: LogKey): LogKey => ({ seed: asBuffer(ownBytes(k.seed)), publicKey: asBuffer(ownBytes(k.publicKey)) });

export function ballotWriter(opts: BallotWriterOptions) {
  let worker: Worker | undefined;
  let sentKid = "";
  let nextId = 1;
  let outbox: WireCast[] = [];
  const pending = new Map<number, { resolve(r: Receipt): void; reject(err: unknown): void }>();

  const onMessage = (m: FromWriter) => {
    if (m.t === "answers") {
      for (const a of unpackReceipts(m.receipts)) {
        const p = pending.get(a.id);
        if (!p) continue;
        pending.delete(a.id);
        p.resolve(a.receipt);
      }
      for (const a of m.errors) {
        const p = pending.get(a.id);
        if (!p) continue;
        pending.delete(a.id);
        p.reject(errorFromWire(a.error));
      }
    } else if (m.t === "appended") opts.onAppended(m.electionId, m.headSeq, m.rows);
    else if (m.t === "committed") opts.onCommitted?.(m.batchSize, m.appended);
    else opts.onCommitFailed?.(m.electionId, m.batchSize, Object.assign(new Error(m.message), { code: m.code }));
  };

  const start = () => {
    const k = opts.logKey();
    sentKid = k.kid;
    const w = new Worker(WORKER_ENTRY, { workerData: { databaseUrl: opts.databaseUrl, batchMax: opts.batchMax, lingerMs: opts.lingerMs, logName: opts.logName, key: keyToWire(k.key) } });
    w.on("message", onMessage);
    let failure: Error | undefined;
    w.on("error", (err) => (failure = err));
    w.on("exit", (code) => {
      if (worker === w) worker = undefined;
      if (pending.size === 0 && !failure) return;
      // Whatever it had not answered may or may not be committed: a retry with the same key tells.
      const err = failure ?? new Error(`the ballot writer thread exited with code ${code}`);
      opts.onCommitFailed?.(undefined, pending.size, err);
      for (const p of pending.values()) p.reject(notRecorded(err));
      pending.clear();
    });
    w.unref();
    return w;
  };

  const post = (m: ToWriter, transfer: ArrayBuffer[] = []) => (worker ??= start()).postMessage(m, transfer);

  const flush = () => {
    const casts = outbox;
    outbox = [];
    const k = opts.logKey();
    if (worker && k.kid !== sentKid) {
      sentKid = k.kid;
      post({ t: "key", key: keyToWire(k.key) });
    }
    const packed = packCasts(casts);
    post({ t: "cast", casts: packed }, [packed]);
  };

  return {
    /** Starts the thread now, so that the first cast does not wait for it to load (a dead one restarts on the next cast). */
    start(): void {
      worker ??= start();
    },

    /** Resolves with the receipt once the ballot is durably committed. */
    cast(req: CastRequest): Promise<Receipt> {
      return new Promise<Receipt>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        if (outbox.length === 0) setImmediate(flush);
        outbox.push({ id, electionId: req.electionId, voterId: req.voterId, choices: req.choices, idempotencyKey: req.idempotencyKey });
      });
    },

    /** Ends the thread once it has closed its connection (call after the server drained). */
    async close(): Promise<void> {
      const w = worker;
      if (!w) return;
      worker = undefined;
      const exited = new Promise((resolve) => w.once("exit", resolve));
      w.postMessage({ t: "close" } satisfies ToWriter);
      const timer = setTimeout(() => void w.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type BallotWriter = ReturnType<typeof ballotWriter>;
