import { voteV1 } from "@voting/api";
import { decodePageToken, encodePageToken, InvalidArgumentError, serverStream, unary, UnauthenticatedError, type Logger } from "@voting/server-kit";
import { randomBytes } from "node:crypto";
import { resolveElectionId } from "../domain/elections.js";
import type { LogFeed } from "../domain/log-feed.js";
import { normalizeTrackingCode } from "../domain/receipts.js";
import type { VotingService } from "../domain/voting.js";
import { stateFromProto, toProtoElection, toProtoEntry, toProtoReceipt } from "./mapping.js";

const MAX_CHOICES = 100;
const LOG_PAGE = 1000;

function parseCastVote(req: voteV1.CastVoteRequest) {
  const choices = req.ballot?.choices ?? [];
  if (choices.length === 0) throw new InvalidArgumentError("ballot.choices must name a candidate");
  if (choices.length > MAX_CHOICES) throw new InvalidArgumentError(`ballot.choices may hold at most ${MAX_CHOICES} candidates`);
  if (choices.some((c) => !Number.isSafeInteger(c) || c <= 0)) throw new InvalidArgumentError("ballot.choices must be candidate ids");
  if (new Set(choices).size !== choices.length) throw new InvalidArgumentError("ballot.choices must not repeat a candidate");
  const key = Buffer.from(req.idempotencyKey);
  if (key.length !== 0 && (key.length < 16 || key.length > 64)) throw new InvalidArgumentError("idempotency_key must be 16 to 64 bytes");
  return { electionId: resolveElectionId(req.electionId), choices, idempotencyKey: key.length > 0 ? key : randomBytes(32) };
}

function parseListElections(req: voteV1.ListElectionsRequest) {
  const afterId = decodePageToken(req.pageToken);
  if (afterId === undefined) throw new InvalidArgumentError("page_token is not one this server issued");
  if (req.pageSize > 500) throw new InvalidArgumentError("page_size must be at most 500");
  const state = req.state === voteV1.ElectionState.ELECTION_STATE_UNSPECIFIED ? undefined : stateFromProto(req.state);
  if (req.state !== voteV1.ElectionState.ELECTION_STATE_UNSPECIFIED && !state) throw new InvalidArgumentError(`unknown state ${req.state}`);
  return { state, afterId, limit: req.pageSize === 0 ? 50 : req.pageSize };
}

export function electionServiceImpl(voting: VotingService, log: Logger): voteV1.ElectionServiceServer {
  return {
    getElection: unary(log, async (req: voteV1.GetElectionRequest) => {
      const { election, candidates } = await voting.getElection(resolveElectionId(req.electionId));
      return { election: toProtoElection(election, candidates) };
    }),
    listElections: unary(log, async (req: voteV1.ListElectionsRequest) => {
      const q = parseListElections(req);
      const page = await voting.listElections({ ...q, limit: q.limit + 1 });
      const shown = page.slice(0, q.limit);
      return {
        elections: shown.map((e) => toProtoElection(e)),
        nextPageToken: page.length > q.limit ? encodePageToken(shown[shown.length - 1].id) : "",
      };
    }),
  };
}

export function voteServiceImpl(voting: VotingService, feed: LogFeed, closing: AbortSignal, log: Logger): voteV1.VoteServiceServer {
  return {
    castVote: unary(log, async (req: voteV1.CastVoteRequest, ctx) => {
      if (!ctx.principal) throw new UnauthenticatedError("voting needs a bearer token");
      return { receipt: toProtoReceipt(await voting.cast(ctx.principal, parseCastVote(req))) };
    }),
    getReceipt: unary(log, async (req: voteV1.GetReceiptRequest) => {
      const code = normalizeTrackingCode(req.trackingCode);
      if (!code) throw new InvalidArgumentError("tracking_code must be 26 characters of Crockford base32");
      return { entry: toProtoEntry(await voting.receipt(code)) };
    }),
    streamBallots: serverStream(log, async (req: voteV1.StreamBallotsRequest, ctx, send) => {
      const electionId = resolveElectionId(req.electionId);
      await voting.electionExists(electionId);
      const stop = AbortSignal.any([ctx.signal, closing]);
      let after = req.afterSeq;
      while (!stop.aborted) {
        const rows = await voting.readLog(electionId, after, LOG_PAGE);
        if (rows.length > 0) {
          await send({ entries: rows.map(toProtoEntry) });
          after = rows[rows.length - 1].seq;
          if (rows.length === LOG_PAGE) continue;
        }
        if (!req.follow) return;
        await feed.wait(electionId, after, stop);
      }
    }),
  };
}
