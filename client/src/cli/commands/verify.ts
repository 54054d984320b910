import type { CommandModule } from "yargs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { newClient, print, RefusedError, type GlobalArgs } from "../context.js";
import { readLog } from "../log-reader.js";
import { configDir } from "../session-store.js";

interface Args extends GlobalArgs {
  code: string;
}

/** The receipt saved by `voting vote`, if this machine cast the ballot. */
async function savedReceipt(code: string): Promise<{ seq: number; ballotHash: string } | undefined> {
  try {
    const lines = (await readFile(join(configDir(), "receipts.jsonl"), "utf8")).trim().split("\n");
    return lines.map((l) => JSON.parse(l)).find((r) => r.trackingCode === code.toUpperCase().replace(/[\s-]/g, ""));
  } catch {
    return undefined;
  }
}

export const verify: CommandModule<GlobalArgs, Args> = {
  command: "verify <code>",
  describe: "Check that the ballot with this tracking code is in the log at its place, and that the log's hash chain is intact",
  builder: (y) => y.positional("code", { type: "string", demandOption: true }),
  async handler(args) {
    const client = newClient();
    try {
      const { entry } = await client.votes.getReceipt({ trackingCode: args.code });
      const { election } = await client.elections.getElection({ electionId: entry!.electionId });
      const saved = await savedReceipt(entry!.trackingCode);
      // A sealed format 1 entry comes without its hash (docs/ballot-log.md).
      if (saved && (saved.seq !== entry!.seq || (entry!.hash !== "" && saved.ballotHash !== entry!.hash))) {
        throw new RefusedError(`the log has this ballot at seq ${entry!.seq} with hash ${entry!.hash}, but your receipt says seq ${saved.seq}, hash ${saved.ballotHash}`);
      }
      let found = false;
      const log = await readLog(client, election!, (e) => {
        if (e.seq === entry!.seq) found = e.hash === entry!.hash && e.trackingCode === entry!.trackingCode;
      });
      if (log.problem) throw new RefusedError(`the ballot log of election ${election!.id} is broken at seq ${log.problem.seq}: ${log.problem.reason}`);
      const report = {
        electionId: election!.id,
        trackingCode: entry!.trackingCode,
        seq: entry!.seq,
        ballotHash: entry!.hash,
        matchesSavedReceipt: saved ? true : undefined,
        chainChecked: log.chainChecked,
        ballotsOpened: !log.sealed,
        headSeq: log.headSeq,
        headHash: log.headHash,
      };
      if (!log.chainChecked) {
        print(args, report, `ballot ${entry!.trackingCode} is in the log of election ${election!.id} at seq ${entry!.seq}${entry!.hash ? ` (hash ${entry!.hash})` : ""}.\nThe log's contents are sealed until the election closes; run verify again then to check the chain.`);
        return;
      }
      if (!found) throw new RefusedError(`the log of election ${election!.id} does not hold this ballot at seq ${entry!.seq}`);
      print(
        args,
        report,
        `ballot ${entry!.trackingCode} is in the log of election ${election!.id} at seq ${entry!.seq}${saved ? ", as your saved receipt says" : ""}.\nThe hash chain from the start to the head (seq ${log.headSeq}, ${log.headHash}) is intact.` +
          (log.sealed ? "\nThe ballots are sealed until the election closes; run verify again then to check that each opens its commitment." : ""),
      );
    } finally {
      client.close();
    }
  },
};
