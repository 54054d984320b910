// The ballot writer thread: the ballot box (group commit, hash chain, Merkle nodes, checkpoint,
// sealed receipts) on its own connection, so that planning, hashing and the durable commit
// (a synchronous fsync on SQLite) run beside vote-server's event loop, not on it.
import { writeFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "@voting/server-kit";
import { ballotRepository } from "../db/ballot-repository.js";
import type { VoteDb } from "../db/schema.js";
import { ballotBox } from "../domain/ballot-box.js";
import { logSigner, type LogKey } from "../domain/transparency-log.js";
import type { Receipt } from "../domain/receipts.js";
import { asBuffer, errorToWire, packReceipts, unpackCasts, type FromWriter, type ToWriter, type WireError, type WriterInit } from "./wire.js";

// Named for `top -H` and the bench's CPU per thread (Linux; Node 20 does not name threads).
try {
  writeFileSync("/proc/thread-self/comm", "ballot-writer");
} catch {
  /* not Linux */
}

const init = workerData as WriterInit;
const port = parentPort!;
const post = (m: FromWriter) => port.postMessage(m);
const keyOf = (k: LogKey): LogKey => ({ seed: asBuffer(k.seed), publicKey: asBuffer(k.publicKey) });
let key = keyOf(init.key);

const db = openDatabase<VoteDb>(init.databaseUrl, { poolSize: 4 });
const box = ballotBox(ballotRepository(db), {
  batchMax: init.batchMax,
  lingerMs: init.lingerMs,
  signer: logSigner(init.logName, () => key),
  onAppended: (electionId, headSeq, rows) => post({ t: "appended", electionId, headSeq, rows }),
  onCommitted: (batchSize, appended) => post({ t: "committed", batchSize, appended }),
  onCommitFailed: (electionId, batchSize, err) => post({ t: "failed", electionId, batchSize, message: String((err as Error)?.message ?? err), code: (err as { code?: string })?.code }),
});

// A commit answers its ballots one after another; they go back in one message.
let receipts: { id: number; receipt: Receipt }[] = [];
let errors: { id: number; error: WireError }[] = [];
const flush = () => {
  const packed = packReceipts(receipts);
  port.postMessage({ t: "answers", receipts: packed, errors } satisfies FromWriter, [packed]);
  receipts = [];
  errors = [];
};
const answered = () => {
  if (receipts.length + errors.length === 1) queueMicrotask(flush);
};

port.on("message", (m: ToWriter) => {
  if (m.t === "key") key = keyOf(m.key);
  else if (m.t === "close") void db.close().finally(() => port.close());
  else {
    for (const { id, ...c } of unpackCasts(m.casts)) {
      box.cast(c).then(
        (receipt) => (receipts.push({ id, receipt }), answered()),
        (err: unknown) => (errors.push({ id, error: errorToWire(err) }), answered()),
      );
    }
  }
});
