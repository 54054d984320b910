// The ballot writer thread: the ballot box (group commit, hash chain, Merkle nodes, checkpoint,
// sealed receipts) on its own connection, so that planning, hashing and the durable commit
// (a synchronous fsync on SQLite) run beside vote-server's event loop, not on it.
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "@voting/server-kit";
import { ballotRepository } from "../db/ballot-repository.js";
import type { VoteDb } from "../db/schema.js";
import { ballotBox } from "../domain/ballot-box.js";
import { logSigner, type LogKey } from "../domain/transparency-log.js";
import { asBuffer, errorToWire, receiptToWire, type FromWriter, type ToWriter, type WriterInit } from "./wire.js";

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
let answers: Extract<FromWriter, { t: "answers" }>["answers"] = [];
const answer = (a: (typeof answers)[number]) => {
  if (answers.length === 0) queueMicrotask(() => (post({ t: "answers", answers }), (answers = [])));
  answers.push(a);
};

port.on("message", (m: ToWriter) => {
  if (m.t === "key") key = keyOf(m.key);
  else if (m.t === "close") void db.close().finally(() => port.close());
  else {
    for (const c of m.casts) {
      box.cast({ electionId: c.electionId, voterId: c.voterId, choices: c.choices, idempotencyKey: asBuffer(c.idempotencyKey) }).then(
        (receipt) => answer({ id: c.id, receipt: receiptToWire(receipt) }),
        (err: unknown) => answer({ id: c.id, error: errorToWire(err) }),
      );
    }
  }
});
