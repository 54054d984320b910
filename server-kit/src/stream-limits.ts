// Bounds on open server streams, per caller and per server. A slot is taken when the call
// starts and given back when the call is really over (ended, cancelled or cut), so a
// stream whose status is stuck behind an unread buffer still counts against its caller.
import { slotCounter } from "@voting/api";
import { int, type Setting } from "./config.js";
import { clientKey } from "./client-key.js";
import { ResourceExhaustedError } from "./errors.js";
import type { CallContext, Send } from "./handlers.js";

export const streamSettings = {
  STREAM_MAX_PER_CALLER: {
    doc: "Open StreamBallots / WatchResults calls per caller (user id, or client address when anonymous, IPv6 by /64); service accounts are exempt",
    default: "32",
    parse: int(1, 1_000_000),
  },
  STREAM_MAX_PER_SERVER: { doc: "Open StreamBallots / WatchResults calls per server, service accounts not counted", default: "10000", parse: int(1, 1_000_000) },
} satisfies Record<string, Setting<unknown>>;

export interface StreamLimits {
  perCaller: number;
  perServer: number;
}

/** A full server frees slots as streams end; this is the retry hint sent with the refusal. */
const STREAMS_FULL_RETRY_MS = 5_000;

type StreamFn<Req, Res> = (req: Req, ctx: CallContext, send: Send<Res>) => Promise<void>;

/** Who a stream counts against: the user, else the client address; undefined for services. */
export function streamCaller(ctx: Pick<CallContext, "principal" | "peer">): string | undefined {
  if (ctx.principal?.role === "service") return undefined;
  return ctx.principal ? `user:${ctx.principal.userId}` : `peer:${clientKey(ctx.peer)}`;
}

export function streamLimiter(limits: StreamLimits) {
  const slots = slotCounter({ perKey: limits.perCaller, total: limits.perServer });

  /** Takes a slot for `caller` or throws RESOURCE_EXHAUSTED; returns its (idempotent) release. */
  function acquire(caller: string): () => void {
    const slot = slots.take(caller);
    if (slot === "key") {
      throw new ResourceExhaustedError(`too many open streams for this caller (at most ${limits.perCaller}); close one first`, { reason: "TOO_MANY_STREAMS" });
    }
    if (slot === "total") throw new ResourceExhaustedError(`the server has too many open streams (at most ${limits.perServer}); try again later`, { reason: "SERVER_STREAMS_FULL", retryAfterMs: STREAMS_FULL_RETRY_MS });
    return slot;
  }

  return {
    acquire,
    /** Wraps a stream handler: refused beyond the limits, slot held until the call is over. */
    guard<Req, Res>(fn: StreamFn<Req, Res>): StreamFn<Req, Res> {
      return async (req, ctx, send) => {
        const caller = streamCaller(ctx);
        if (caller !== undefined) {
          const release = acquire(caller);
          // grpc-js reports every finished call as cancelled, so this fires exactly once per call.
          if (ctx.signal.aborted) release();
          else ctx.signal.addEventListener("abort", release, { once: true });
        }
        return fn(req, ctx, send);
      };
    },
    /** Streams holding a slot now. */
    open: slots.open,
  };
}

export type StreamLimiter = ReturnType<typeof streamLimiter>;
