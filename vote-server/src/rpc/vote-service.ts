import { voteV1 } from "@voting/api";
import { InvalidArgumentError, serverStream, unary, UnauthenticatedError, type Logger } from "@voting/server-kit";
import { randomBytes } from "node:crypto";
import { resolveElectionId } from "../domain/elections.js";
import type { LogFeed } from "../domain/log-feed.js";
import { normalizeTrackingCode } from "../domain/receipts.js";
import { contentSealed, type VotingService } from "../domain/voting.js";
import { toProtoEntry, toProtoReceipt } from "./mapping.js";

const MAX_CHOICES = 100;
const LOG_PAGE = 1000;

function parseCastVote(req: voteV1.CastVoteRequest) {
  const choices = req.ballot?.choices ?? [];
  if (choices.length > MAX_CHOICES) throw new InvalidArgumentError(`ballot.choices may hold at most ${MAX_CHOICES} candidates`);
  if (choices.some((c) => !Number.isSafeInteger(c) || c <= 0)) throw new InvalidArgumentError("ballot.choices must be candidate ids");
  const key = Buffer.from(req.idempotencyKey);
  if (key.length !== 0 && (key.length < 16 || key.length > 64)) throw new InvalidArgumentError("idempotency_key must be 16 to 64 bytes");
  return { electionId: resolveElectionId(req.electionId), choices, idempotencyKey: key.length > 0 ? key : randomBytes(32) };
}

export function voteServiceImpl(voting: VotingService, feed: LogFeed, closing: AbortSignal, log: Logger): voteV1.VoteServiceServer {
  return {
    castVote: unary(log, async (req: voteV1.CastVoteRequest, ctx) => {
      if (!ctx.principal) throw new UnauthenticatedError("voting needs a bearer token");
      return { receipt: toProtoReceipt(await voting.cast(ctx.principal, parseCastVote(req))) };
    }),
    getReceipt: unary(log, async (req: voteV1.GetReceiptRequest, ctx) => {
      const code = normalizeTrackingCode(req.trackingCode);
      if (!code) throw new InvalidArgumentError("tracking_code must be 26 characters of Crockford base32");
      const { row, election } = await voting.receipt(code);
      return { entry: toProtoEntry(row, contentSealed(election, ctx.principal)) };
    }),
    streamBallots: serverStream(log, async (req: voteV1.StreamBallotsRequest, ctx, send) => {
      const electionId = resolveElectionId(req.electionId);
      await voting.election(electionId);
      const stop = AbortSignal.any([ctx.signal, closing]);
      let after = req.afterSeq;
      while (!stop.aborted) {
        const rows = await voting.readLog(electionId, after, LOG_PAGE);
        if (rows.length > 0) {
          // Re-read (cached) each page: the embargo lifts when the election closes.
          const sealed = contentSealed(await voting.election(electionId), ctx.principal);
          await send({ entries: rows.map((r) => toProtoEntry(r, sealed)) });
          after = rows[rows.length - 1].seq;
          if (rows.length === LOG_PAGE) continue;
        }
        if (!req.follow) return;
        await feed.wait(electionId, after, stop);
      }
    }),
  };
}
