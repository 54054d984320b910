// Bounds on open server streams, per caller and per server. A slot is taken when the call
// starts and given back when the call is really over (ended, cancelled or cut), so a
// stream whose status is stuck behind an unread buffer still counts against its caller.
import { int, type Setting } from "./config.js";
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

type StreamFn<Req, Res> = (req: Req, ctx: CallContext, send: Send<Res>) => Promise<void>;

/**
 * The client address a limit is kept for: IPv4 as is (also when IPv4-mapped), IPv6 by its
 * /64, since one subscriber usually holds a whole /64 and could otherwise rotate addresses.
 */
export function addressKey(peer: string): string {
  const addr = peer.replace(/^ipv[46]:/, "").replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(addr);
  if (v4) return v4[1];
  if (!addr.includes(":")) return addr;
  const [head, tail] = addr.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}

/** Who a stream counts against: the user, else the client address; undefined for services. */
export function streamCaller(ctx: Pick<CallContext, "principal" | "peer">): string | undefined {
  if (ctx.principal?.role === "service") return undefined;
  return ctx.principal ? `user:${ctx.principal.userId}` : `peer:${addressKey(ctx.peer)}`;
}

export function streamLimiter(limits: StreamLimits) {
  const byCaller = new Map<string, number>();
  let open = 0;

  /** Takes a slot for `caller` or throws RESOURCE_EXHAUSTED; returns its (idempotent) release. */
  function acquire(caller: string): () => void {
    const mine = byCaller.get(caller) ?? 0;
    if (mine >= limits.perCaller) {
      throw new ResourceExhaustedError(`too many open streams for this caller (at most ${limits.perCaller}); close one first`);
    }
    if (open >= limits.perServer) throw new ResourceExhaustedError(`the server has too many open streams (at most ${limits.perServer}); try again later`);
    byCaller.set(caller, mine + 1);
    open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open--;
      const left = byCaller.get(caller)! - 1;
      if (left === 0) byCaller.delete(caller);
      else byCaller.set(caller, left);
    };
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
    open: () => open,
  };
}

export type StreamLimiter = ReturnType<typeof streamLimiter>;
