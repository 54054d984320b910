import { toProtoResult, tallyV1 } from "@voting/api";
import { serverStream, toProtoJwk, unary, type Logger, type StreamLimiter, type Upstream } from "@voting/server-kit";
import type { JWK } from "jose";
import type { ElectionResult } from "../domain/results.js";

const DEFAULT_ELECTION_ID = 1;

const electionIdOf = (id: number) => (id === 0 ? DEFAULT_ELECTION_ID : id);

// A result is shared by every reader until something changes it: map it to proto once, and
// (tallyServiceDefinition) encode that response once.
const responses = new WeakMap<ElectionResult, tallyV1.GetResultsResponse & tallyV1.WatchResultsResponse>();
const responseOf = (r: ElectionResult) => {
  let res = responses.get(r);
  if (!res) responses.set(r, (res = { result: mapResult(r) }));
  return res;
};

/** TallyService whose result responses are encoded once per response object (grpc-js copies the bytes into its frame). */
export function tallyServiceDefinition(): typeof tallyV1.TallyServiceService {
  const encoded = new WeakMap<object, Buffer>();
  const once = <T extends object>(encode: (value: T) => Buffer) => (value: T) => {
    let bytes = encoded.get(value);
    if (!bytes) encoded.set(value, (bytes = encode(value)));
    return bytes;
  };
  const d = tallyV1.TallyServiceService;
  return {
    ...d,
    getResults: { ...d.getResults, responseSerialize: once(d.getResults.responseSerialize) },
    watchResults: { ...d.watchResults, responseSerialize: once(d.watchResults.responseSerialize) },
  };
}

const mapResult = (r: ElectionResult): tallyV1.ElectionResult =>
  toProtoResult(
    r.tally,
    {
      electionId: r.electionId,
      title: r.title,
      countedThroughSeq: r.countedThroughSeq,
      logHeadHash: r.logHeadHash,
      updateTime: r.computedAt,
      embargoed: r.embargoed,
      final: r.final,
      statement: r.statement,
      integrityAlarms: r.integrityAlarms,
    },
    r.totalBallots,
  );

export interface ResultsPort {
  /** The current result when it is at hand without waiting; else undefined (then compute). */
  peek(electionId: number): ElectionResult | undefined;
  /** The current result; `upstream`: the call asking (lookups shared by concurrent calls keep its deadline, not its cancellation). */
  compute(electionId: number, upstream?: Upstream): Promise<ElectionResult>;
  subscribe(electionId: number, listener: (r: ElectionResult) => void): () => void;
}

export function tallyServiceImpl(results: ResultsPort, publicKeys: () => JWK[], closing: AbortSignal, log: Logger, streams: StreamLimiter): tallyV1.TallyServiceServer {
  return {
    getJwks: unary(log, async () => ({ keys: publicKeys().map(toProtoJwk) })),
    getResults: unary(log, (req: tallyV1.GetResultsRequest, ctx) => {
      const id = electionIdOf(req.electionId);
      const now = results.peek(id);
      return now ? responseOf(now) : results.compute(id, ctx.shared).then(responseOf);
    }),
    watchResults: serverStream(log, streams.guard(async (req: tallyV1.WatchResultsRequest, ctx, send) => {
      const id = electionIdOf(req.electionId);
      const stop = AbortSignal.any([ctx.signal, closing]);
      // Latest wins: while a slow watcher drains, newer results replace the waiting one.
      let waiting: ElectionResult | undefined;
      let sending = false;
      let failed: unknown;
      const push = async (r: ElectionResult) => {
        waiting = r;
        if (sending) return;
        sending = true;
        try {
          while (waiting && !stop.aborted) {
            const next = waiting;
            waiting = undefined;
            await send(responseOf(next));
          }
        } catch (err) {
          failed = err;
        } finally {
          sending = false;
        }
      };
      const unsubscribe = results.subscribe(id, (r) => void push(r));
      try {
        await push(await results.compute(id));
        if (failed) throw failed;
        await new Promise<void>((resolve) => {
          if (stop.aborted) resolve();
          stop.addEventListener("abort", () => resolve(), { once: true });
        });
      } finally {
        unsubscribe();
      }
    })),
  };
}
