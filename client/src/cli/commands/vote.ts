import type { CommandModule } from "yargs";
import { createHash, randomBytes } from "node:crypto";
import { currentSession, newClient, print, RefusedError, tokenSubject, UsageError, type GlobalArgs } from "../context.js";
import { pendingKey, saveReceipt, setPendingKey } from "../session-store.js";
import { isServiceError, Status } from "../../client.js";

const OUTCOME_UNKNOWN = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.UNKNOWN, Status.INTERNAL]);

interface Args extends GlobalArgs {
  ids: (string | number)[];
  election: number;
}

function parseId(raw: string | number, what: string): number {
  const s = String(raw);
  if (!/^\d{1,15}$/.test(s) || Number(s) === 0) throw new UsageError(`${what} must be a positive whole number, got "${s}"`);
  return Number(s);
}

export const vote: CommandModule<GlobalArgs, Args> = {
  command: "vote <ids..>",
  describe: "Cast a ballot: `vote <candidate_id>` with the saved session, or `vote <user_id> <candidate_id> <token>`",
  builder: (y) =>
    y
      .positional("ids", { type: "string", array: true, demandOption: true })
      .option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" }),
  async handler(args) {
    let token: string;
    let candidateId: number;
    let userId: number;
    if (args.ids.length === 1) {
      const session = await currentSession();
      token = session.accessToken;
      userId = session.userId;
      candidateId = parseId(args.ids[0], "candidate_id");
    } else if (args.ids.length === 3) {
      userId = parseId(args.ids[0], "user_id");
      candidateId = parseId(args.ids[1], "candidate_id");
      token = String(args.ids[2]);
      const subject = tokenSubject(token);
      if (subject !== userId) throw new RefusedError(`user id ${userId} is not the token's subject (${subject})`);
    } else {
      throw new UsageError("usage: voting vote <candidate_id>  or  voting vote <user_id> <candidate_id> <token>");
    }
    // The same idempotency key on a re-run after a lost reply gets the original receipt back.
    const ballotId = createHash("sha256").update(`${userId}:${args.election}:${candidateId}`).digest("hex");
    const key = (await pendingKey(ballotId)) ?? randomBytes(32).toString("base64");
    await setPendingKey(ballotId, key);
    const client = newClient(token);
    try {
      let receipt;
      try {
        ({ receipt } = await client.votes.castVote({
          electionId: args.election,
          ballot: { choices: [candidateId] },
          idempotencyKey: Buffer.from(key, "base64"),
        }));
      } catch (err) {
        // Keep the key only when the outcome is unknown, so the next run can retry it.
        if (!isServiceError(err) || !OUTCOME_UNKNOWN.has(err.code)) await setPendingKey(ballotId, undefined);
        throw err;
      }
      await saveReceipt(receipt!);
      await setPendingKey(ballotId, undefined);
      print(
        args,
        receipt,
        `ballot recorded in election ${receipt!.electionId} at log position ${receipt!.seq}\ntracking code: ${receipt!.trackingCode}\nballot hash:   ${receipt!.ballotHash}`,
      );
    } finally {
      client.close();
    }
  },
};
