// A token bucket per caller for public unary calls: `perSecond` calls on average, `burst` at
// once. Counting calls in flight bounds nothing when the store answers synchronously (SQLite).
import { ResourceExhaustedError, streamCaller, type CallContext } from "@voting/server-kit";

export interface CallRate {
  perSecond: number;
  burst: number;
}

export function callRateLimiter(rate: CallRate, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (b: { tokens: number; at: number }, t: number) => {
    b.tokens = Math.min(rate.burst, b.tokens + ((t - b.at) * rate.perSecond) / 1000);
    b.at = t;
  };
  return {
    /** Takes one call from the caller's bucket, or throws RESOURCE_EXHAUSTED; services are exempt. */
    take(ctx: Pick<CallContext, "principal" | "peer">): void {
      const caller = streamCaller(ctx);
      if (caller === undefined) return;
      const t = now();
      // Buckets that have refilled are the same as no bucket: drop them now and then.
      if (buckets.size > 100_000) {
        for (const [k, b] of buckets) if ((t - b.at) * rate.perSecond >= rate.burst * 1000) buckets.delete(k);
      }
      let b = buckets.get(caller);
      if (!b) buckets.set(caller, (b = { tokens: rate.burst, at: t }));
      refill(b, t);
      if (b.tokens < 1) {
        const waitMs = Math.ceil(((1 - b.tokens) * 1000) / rate.perSecond);
        throw new ResourceExhaustedError(`too many transparency log calls from this caller (${rate.perSecond} per second, ${rate.burst} at once); retry in ${waitMs} ms`, {
          reason: "TOO_MANY_CALLS",
          retryAfterMs: waitMs,
        });
      }
      b.tokens -= 1;
    },
    size: () => buckets.size,
  };
}

export type CallRateLimiter = ReturnType<typeof callRateLimiter>;
