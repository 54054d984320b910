// Bounded, jittered retries of calls that are safe to repeat (reads, and CastVote, which
// repeats its idempotency key), when the server answers UNAVAILABLE: a database restart or a
// failover costs the caller latency, not an error.
import { status as Status } from "@grpc/grpc-js";

export interface RetryPolicy {
  /** Tries in all, the first included (1: no retry). */
  attempts: number;
  /** Wait before the first retry; doubles each time, up to maxBackoffMs, jittered down to half. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialBackoffMs: 200, maxBackoffMs: 2_000 };

/** Calls that needed at least one retry (retriedCalls), and the retries made (retries). */
export interface RetryStats {
  calls: number;
  retriedCalls: number;
  retries: number;
}

export function retrier(policy: RetryPolicy) {
  const stats: RetryStats = { calls: 0, retriedCalls: 0, retries: 0 };
  return {
    stats: (): RetryStats => ({ ...stats }),
    /** Runs once() again while it fails with UNAVAILABLE, within the attempts and before deadline (epoch ms). */
    async run<T>(once: () => Promise<T>, deadline: number, signal?: AbortSignal): Promise<T> {
      stats.calls++;
      for (let attempt = 1; ; attempt++) {
        try {
          return await once();
        } catch (err) {
          const wait = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
          const unavailable = (err as { code?: unknown })?.code === Status.UNAVAILABLE;
          if (!unavailable || attempt >= policy.attempts || signal?.aborted || Date.now() + wait >= deadline) throw err;
          if (attempt === 1) stats.retriedCalls++;
          stats.retries++;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    },
  };
}
