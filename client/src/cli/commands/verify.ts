import type { CommandBody } from "./index.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { newClient, print, type GlobalArgs } from "../context.js";
import { configDir } from "../session-store.js";
import { CheckpointStore } from "../checkpoint-store.js";
import { failWithEvidence } from "../log-trust.js";
import { SplitViewError } from "../tlog-check.js";
import { chainText, findReceipt, verifyBallot, verifyText, type ChainReport, type ProofReport, type SavedReceipt } from "../verify-core.js";

interface Args extends GlobalArgs {
  code: string;
  full: boolean;
  logKey?: string;
}

/** The receipt saved by `voting vote`, if this machine cast the ballot. */
async function savedReceipt(code: string): Promise<SavedReceipt | undefined> {
  try {
    return findReceipt(await readFile(join(configDir(), "receipts.jsonl"), "utf8"), code);
  } catch {
    return undefined;
  }
}

export const verify: CommandBody<Args> = {
  builder: (y) =>
    y
      .positional("code", { type: "string", demandOption: true })
      .option("full", { type: "boolean", default: false, describe: "Also download the whole log and recompute its hash chain" })
      .option("log-key", { type: "string", describe: "The log's verifier key for this election (pins it; default: the key pinned on first use)" }),
  async handler(args) {
    const client = newClient();
    const started = performance.now();
    try {
      const saved = await savedReceipt(args.code);
      let report: ProofReport | ChainReport;
      try {
        report = await verifyBallot(client, args.code, { store: new CheckpointStore(), saved, logKey: args.logKey, full: args.full });
      } catch (err) {
        if (err instanceof SplitViewError) return failWithEvidence(args, err);
        throw err;
      }
      if (report.kind === "chain") return printChain(args, report);
      const ms = performance.now() - started;
      const { kind: _kind, full, ...rest } = report;
      print(args, { ...rest, ms: Math.round(ms), chainChecked: full ? full.chainChecked : undefined, checkpoint: report.checkpoint }, verifyText(report, Math.round(ms)));
    } finally {
      client.close();
    }
  },
};

function printChain(args: Args, r: ChainReport) {
  const { log } = r;
  const report = {
    electionId: r.electionId,
    trackingCode: r.trackingCode,
    seq: r.seq,
    ballotHash: r.ballotHash,
    matchesSavedReceipt: r.matchesSavedReceipt,
    chainChecked: log.chainChecked,
    ballotsOpened: !log.sealed,
    headSeq: log.headSeq,
    headHash: log.headHash,
  };
  print(args, report, chainText(r));
}
