import { logV1 } from "@voting/api";
import { InvalidArgumentError, NotFoundError, unary, type CallContext, type Logger } from "@voting/server-kit";
import type { CallRateLimiter } from "./call-rate.js";
import { resolveElectionId } from "../domain/elections.js";
import { normalizeTrackingCode } from "../domain/receipts.js";
import { leafData, type TransparencyLog } from "../domain/transparency-log.js";
import { contentSealed, type VotingService } from "../domain/voting.js";
import { toProtoEntry } from "./mapping.js";

/** Public calls, rate-limited per caller: proofs are cheap, but each is a store read. */
function limited<Req, Res>(calls: CallRateLimiter, fn: (req: Req, ctx: CallContext) => Promise<Res>) {
  return async (req: Req, ctx: CallContext): Promise<Res> => {
    calls.take(ctx);
    return fn(req, ctx);
  };
}

export function logServiceImpl(voting: VotingService, tlog: TransparencyLog, calls: CallRateLimiter, log: Logger): logV1.LogServiceServer {
  return {
    getCheckpoint: unary(
      log,
      limited(calls, async (req: logV1.GetCheckpointRequest) => {
        const c = await tlog.checkpoint(resolveElectionId(req.electionId));
        return {
          checkpoint: { note: c.note, origin: c.checkpoint.origin, treeSize: c.checkpoint.size, rootHash: c.checkpoint.rootHash },
          verifierKey: c.verifierKey,
          publicKey: c.publicKey,
        };
      }),
    ),
    getInclusionProof: unary(
      log,
      limited(calls, async (req: logV1.GetInclusionProofRequest, ctx) => {
        const electionId = resolveElectionId(req.electionId);
        let leafIndex: number;
        if (req.trackingCode !== undefined) {
          const code = normalizeTrackingCode(req.trackingCode);
          if (!code) throw new InvalidArgumentError("tracking_code must be 26 characters of Crockford base32", { field: "tracking_code" });
          const { row } = await voting.receipt(code);
          if (row.electionId !== electionId) throw new NotFoundError(`no ballot of election ${electionId} has tracking code ${code}`, { reason: "BALLOT_NOT_FOUND" });
          leafIndex = row.seq - 1;
        } else if (req.leafIndex !== undefined) {
          leafIndex = req.leafIndex;
        } else {
          throw new InvalidArgumentError("set leaf_index or tracking_code", { field: "tracking_code" });
        }
        const proof = await tlog.inclusion(electionId, req.treeSize, leafIndex);
        const [row] = await voting.readLog(electionId, leafIndex, 1);
        if (!row || row.seq !== leafIndex + 1) throw new Error(`entry ${leafIndex + 1} of election ${electionId} is missing`);
        const election = await voting.election(electionId);
        return {
          leafIndex,
          treeSize: proof.size,
          entry: toProtoEntry(row, contentSealed(election, ctx.principal)),
          leafData: leafData(row),
          inclusionPath: proof.path,
        };
      }),
    ),
    getConsistencyProof: unary(
      log,
      limited(calls, async (req: logV1.GetConsistencyProofRequest) => {
        const p = await tlog.consistency(resolveElectionId(req.electionId), req.firstSize, req.secondSize);
        return { firstSize: p.first, secondSize: p.second, consistencyPath: p.path };
      }),
    ),
  };
}
