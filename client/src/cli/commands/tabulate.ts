import type { CommandBody } from "./index.js";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseBallotFile, RankingMultiset, readBlt, tabulate as count, TallyFileError, TallyInputError, type Method, type OvervoteRule, type StvVariant } from "@voting/election-core";
import { toProtoResult } from "@voting/api";
import { print, RefusedError, type GlobalArgs } from "../context.js";
import { renderResult } from "../format.js";

interface Args extends GlobalArgs {
  file: string;
  method: Method;
  seats?: number;
  "batch-elimination": boolean;
  overvote: OvervoteRule;
  stv: StvVariant;
  seed: string;
}

/** A BLT file is streamed into its distinct rankings; PrefLib files are small and read whole. */
async function readBallots(file: string) {
  if (/\.blt$/i.test(file)) return readBlt(file);
  return parseBallotFile(await readFile(file, "utf8"), basename(file));
}

export const tabulate: CommandBody<Args> = {
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true })
      .option("method", { choices: ["plurality", "approval", "irv", "stv", "schulze"] as const, demandOption: true })
      .option("seats", { type: "number", describe: "Seats to fill (default: the file's, else 1)" })
      .option("batch-elimination", { type: "boolean", default: false, describe: "irv/stv: eliminate together every candidate who cannot win" })
      .option("overvote", {
        choices: ["exhaust", "skip", "exhaust-if-continuing"] as const,
        default: "exhaust" as const,
        describe: "A rank with several candidates: exhaust the ballot, skip the rank, or exhaust only when several are still continuing",
      })
      .option("stv", { choices: ["scottish", "wigm", "meek"] as const, default: "scottish" as const, describe: "STV rules" })
      .option("seed", { type: "string", default: "", describe: "Hex seed for drawing lots in ties" }),
  async handler(args) {
    if (args.seed !== "" && !/^([0-9a-fA-F]{2})+$/.test(args.seed)) throw new RefusedError("--seed must be hex");
    let parsed;
    try {
      parsed = await readBallots(args.file);
    } catch (err) {
      if (err instanceof TallyFileError) throw new RefusedError(`${args.file}: ${err.message}`);
      if (err instanceof TypeError) throw new RefusedError(err.message); // unknown file type
      if ((err as NodeJS.ErrnoException).syscall) throw new RefusedError(`cannot read ${args.file}: ${(err as Error).message}`);
      throw err;
    }
    // Withdrawn candidates (BLT) are not counted: their ranks are passed over.
    const withdrawn = new Set(parsed.withdrawn);
    const ballots = parsed.ballots instanceof RankingMultiset && withdrawn.size > 0 ? parsed.ballots.without(withdrawn) : parsed.ballots;
    let result;
    try {
      result = count(
        parsed.candidates.filter((c) => !withdrawn.has(c.id)),
        ballots,
        { method: args.method, seats: args.seats ?? parsed.seats ?? 1, batchElimination: args["batch-elimination"], overvote: args.overvote, stvVariant: args.stv, tieBreakSeed: args.seed },
      );
    } catch (err) {
      if (err instanceof TallyInputError) throw new RefusedError(err.message);
      throw err;
    }
    const proto = toProtoResult(
      result,
      { electionId: 0, title: parsed.title || basename(args.file), countedThroughSeq: 0, logHeadHash: "", updateTime: new Date(), embargoed: false, final: true },
      result.ballots,
    );
    print(args, proto, renderResult(proto));
  },
};
