import type { CommandBody } from "./index.js";
import { createHash, randomBytes } from "node:crypto";
import { currentSession, newClient, print, RefusedError, tokenSubject, UsageError, type GlobalArgs } from "../context.js";
import { pendingKey, saveReceipt, setPendingKey } from "../session-store.js";
import { isServiceError, Status, type voteV1, type VotingClient } from "@voting/api";
import { CheckpointStore } from "../checkpoint-store.js";
import { trustCheckpoint } from "../log-trust.js";
import { rootText } from "../tlog-check.js";
import { terminalSafe } from "../format.js";
import { receiptRecord } from "../verify-core.js";

const OUTCOME_UNKNOWN = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.UNKNOWN, Status.INTERNAL]);

interface Args extends GlobalArgs {
  ids: (string | number)[];
  election: number;
  approve?: string;
  rank?: string;
}

function parseId(raw: string | number, what: string): number {
  const s = String(raw);
  if (!/^\d{1,15}$/.test(s) || Number(s) === 0) throw new UsageError(`${what} must be a positive whole number, got "${s}"`);
  return Number(s);
}

/** Candidate ids from ids or unique names, as the election lists them. */
async function resolveCandidates(client: VotingClient, electionId: number, refs: string[]): Promise<number[]> {
  if (refs.every((r) => /^\d+$/.test(r))) return refs.map((r) => parseId(r, "candidate"));
  const { election } = await client.elections.getElection({ electionId, withoutTurnout: true });
  return refs.map((ref) => {
    if (/^\d+$/.test(ref)) return parseId(ref, "candidate");
    const found = election!.candidates.filter((c) => c.name.toLowerCase() === ref.toLowerCase());
    if (found.length !== 1) throw new RefusedError(found.length === 0 ? `election ${election!.id} has no candidate named "${ref}"` : `"${ref}" names several candidates; use an id`);
    return found[0].id;
  });
}

/**
 * Keeps the receipt's checkpoint (its log signature checked) so that later verifies prove
 * the log consistent with it. The ballot is cast either way: trouble here is only a warning.
 */
async function keepReceiptCheckpoint(client: VotingClient, receipt: voteV1.Receipt): Promise<void> {
  try {
    const store = new CheckpointStore();
    // The first use of a log: learn its key from the server (trust on first use).
    const pinned = await store.pinnedKey(noteOriginSafe(receipt.checkpoint));
    const logKey = pinned ? undefined : (await client.log.getCheckpoint({ electionId: receipt.electionId })).verifierKey;
    const cp = await trustCheckpoint(store, { note: receipt.checkpoint, logKey }, receipt.electionId);
    await store.save(cp.checkpoint.origin, { size: cp.checkpoint.size, root: rootText(cp.checkpoint), note: cp.note }, "receipt");
  } catch (err) {
    process.stderr.write(terminalSafe(`voting: warning: the receipt's checkpoint was not kept: ${(err as Error).message}\n`));
  }
}

const noteOriginSafe = (note: string) => note.split("\n")[0];

const list = (raw: string, what: string) => {
  const parts = raw.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) throw new UsageError(`${what} needs a comma-separated list of candidates`);
  return parts;
};

export const vote: CommandBody<Args> = {
  builder: (y) =>
    y
      .positional("ids", { type: "string", array: true, default: [] })
      .option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" })
      .option("approve", { type: "string", describe: "Approval ballot: the candidates you approve, comma-separated" })
      .option("rank", { type: "string", describe: "Ranked ballot: candidates in order of preference, comma-separated" })
      .conflicts("approve", "rank"),
  async handler(args) {
    let token: string;
    let userId: number;
    let refs: string[];
    if (args.approve !== undefined || args.rank !== undefined) {
      if (args.ids.length > 0) throw new UsageError("give the candidates either as arguments or with --approve/--rank, not both");
      refs = args.approve !== undefined ? list(args.approve, "--approve") : list(args.rank!, "--rank");
      ({ accessToken: token, userId } = await currentSession());
    } else if (args.ids.length === 1) {
      ({ accessToken: token, userId } = await currentSession());
      refs = [String(args.ids[0])];
    } else if (args.ids.length === 3) {
      userId = parseId(args.ids[0], "user_id");
      refs = [String(parseId(args.ids[1], "candidate_id"))];
      token = String(args.ids[2]);
      const subject = tokenSubject(token);
      if (subject !== userId) throw new RefusedError(`user id ${userId} is not the token's subject (${subject})`);
    } else {
      throw new UsageError("usage: voting vote <candidate> | --approve a,b | --rank a,b,c | <user_id> <candidate_id> <token>");
    }
    const client = newClient(token);
    try {
      const choices = await resolveCandidates(client, args.election, refs);
      // The same idempotency key on a re-run after a lost reply gets the original receipt back.
      const ballotId = createHash("sha256").update(`${userId}:${args.election}:${choices.join(",")}`).digest("hex");
      const key = (await pendingKey(ballotId)) ?? randomBytes(32).toString("base64");
      await setPendingKey(ballotId, key);
      let receipt;
      try {
        ({ receipt } = await client.votes.castVote({ electionId: args.election, ballot: { choices }, idempotencyKey: Buffer.from(key, "base64") }));
      } catch (err) {
        // Keep the key only when the outcome is unknown, so the next run can retry it.
        if (!isServiceError(err) || !OUTCOME_UNKNOWN.has(err.code)) await setPendingKey(ballotId, undefined);
        throw err;
      }
      const saved = receiptRecord(receipt!);
      await saveReceipt(saved);
      await setPendingKey(ballotId, undefined);
      if (receipt!.checkpoint) await keepReceiptCheckpoint(client, receipt!);
      print(
        args,
        saved,
        `ballot recorded in election ${receipt!.electionId} at log position ${receipt!.seq}\ntracking code: ${receipt!.trackingCode}\nballot hash:   ${receipt!.ballotHash}`,
      );
    } finally {
      client.close();
    }
  },
};
