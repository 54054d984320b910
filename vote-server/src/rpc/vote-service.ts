import { voteV1 } from "@voting/api";
import { InvalidArgumentError, serverStream, unary, UnauthenticatedError, type Logger, type Send, type StreamLimiter } from "@voting/server-kit";
import { randomBytes } from "node:crypto";
import { resolveElectionId } from "../domain/elections.js";
import type { LogBatch, LogFeed } from "../domain/log-feed.js";
import { normalizeTrackingCode, type Receipt } from "../domain/receipts.js";
import { contentSealed, type VotingService } from "../domain/voting.js";
import type { TransparencyLog } from "../domain/transparency-log.js";
import { toProtoEntry, toProtoReceipt } from "./mapping.js";
import { encodeStreamBallots } from "./ballot-stream-encode.js";

const MAX_CHOICES = 100;

function parseCastVote(req: voteV1.CastVoteRequest) {
  const choices = req.ballot?.choices ?? [];
  if (choices.length > MAX_CHOICES) throw new InvalidArgumentError(`ballot.choices may hold at most ${MAX_CHOICES} candidates`, { field: "ballot.choices" });
  if (choices.some((c) => !Number.isSafeInteger(c) || c <= 0)) throw new InvalidArgumentError("ballot.choices must be candidate ids", { field: "ballot.choices" });
  const key = Buffer.from(req.idempotencyKey);
  if (key.length !== 0 && (key.length < 16 || key.length > 64)) throw new InvalidArgumentError("idempotency_key must be 16 to 64 bytes", { field: "idempotency_key" });
  return { electionId: resolveElectionId(req.electionId), choices, idempotencyKey: key.length > 0 ? key : randomBytes(32) };
}

/** The StreamBallots message for a batch, encoded once per batch and embargo view and shared by every follower. */
function messages() {
  const built = new WeakMap<LogBatch, { sealed?: Buffer; open?: Buffer }>();
  return (b: LogBatch, sealed: boolean): Buffer => {
    let m = built.get(b);
    if (!m) built.set(b, (m = {}));
    return (m[sealed ? "sealed" : "open"] ??= encodeStreamBallots(b.rows, sealed));
  };
}

/** VoteService whose StreamBallots handler sends messages it encoded itself (encodeStreamBallots). */
export const voteServiceDefinition = (() => {
  const def = voteV1.VoteServiceService;
  return { ...def, streamBallots: { ...def.streamBallots, responseSerialize: (m: Buffer): Buffer => m } };
})();

type VoteServiceServer = Omit<voteV1.VoteServiceServer, "streamBallots"> & { streamBallots: ReturnType<typeof serverStream<voteV1.StreamBallotsRequest, Buffer>> };

export function voteServiceImpl(voting: VotingService, feed: LogFeed, streams: StreamLimiter, log: Logger, tlog?: TransparencyLog): VoteServiceServer {
  const messageOf = messages();
  const withProof = async (receipt: Receipt, tlog: TransparencyLog) => ({ receipt: toProtoReceipt({ ...receipt, ...(await tlog.receiptProof(await voting.election(receipt.electionId), receipt.seq)) }) });
  return {
    castVote: unary(log, (req: voteV1.CastVoteRequest, ctx) => {
      if (!ctx.principal) throw new UnauthenticatedError("voting needs a bearer token", { reason: "TOKEN_REQUIRED" });
      // A retry's receipt comes from its sealed copy, which holds no proof: add a fresh one.
      return voting.cast(ctx.principal, parseCastVote(req), ctx.upstream).then((receipt) => (receipt.checkpoint === undefined && tlog ? withProof(receipt, tlog) : { receipt: toProtoReceipt(receipt) }));
    }),
    getReceipt: unary(log, async (req: voteV1.GetReceiptRequest, ctx) => {
      const code = normalizeTrackingCode(req.trackingCode);
      if (!code) throw new InvalidArgumentError("tracking_code must be 26 characters of Crockford base32", { field: "tracking_code" });
      const { row, election } = await voting.receipt(code);
      return { entry: toProtoEntry(row, contentSealed(election, ctx.principal)) };
    }),
    streamBallots: serverStream(
      log,
      streams.guard(async (req: voteV1.StreamBallotsRequest, ctx, send: Send<Buffer>) => {
        const electionId = resolveElectionId(req.electionId);
        await voting.election(electionId);
        if (ctx.signal.aborted) return;
        // The tally (a service account) reads from its own tail, never held back by public followers.
        const reader = feed.follow(electionId, req.afterSeq, req.follow, ctx.principal?.role === "service");
        // A cancelled call ends its reader at once: out of the tail, no more reads.
        const stop = () => reader.close();
        ctx.signal.addEventListener("abort", stop, { once: true });
        try {
          for (let batches = await reader.next(); batches; batches = await reader.next()) {
            // Re-read (cached) per delivery: the embargo lifts when the election closes.
            const sealed = contentSealed(await voting.election(electionId), ctx.principal);
            // A reader dropped as too slow ends even while its call waits for the client.
            for (const b of batches) await reader.until(send(messageOf(b, sealed)));
          }
        } finally {
          ctx.signal.removeEventListener("abort", stop);
          reader.close();
        }
      }),
    ),
  };
}
