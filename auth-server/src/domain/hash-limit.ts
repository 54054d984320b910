// Password hashes are the costliest thing auth-server does (argon2id at OWASP settings: ~20 MiB
// and tens of ms of a core each). Unbounded, a login storm fills libuv's thread pool and every
// core of the machine, starving the servers beside it; so at most `concurrency` run at once, at
// most `maxQueued` wait, and the rest are told to come back later.
import { cpus } from "node:os";
import pLimit from "p-limit";
import { ResourceExhaustedError } from "@voting/server-kit";
import type { PasswordHasher } from "./passwords.js";

/** Half the cores, and 1 on a machine of 2 or fewer, so hashing leaves room for the rest. */
export function defaultHashConcurrency(cores = cpus().length): number {
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

export interface HashLimits {
  concurrency: number;
  maxQueued: number;
}

/** The hash queue is full: nothing was checked, so the caller may give back what it reserved. */
export class HashQueueFullError extends ResourceExhaustedError {}

/** `hasher` with every hash and verification run through one bounded queue. */
export function limitedHasher(hasher: PasswordHasher, limits: HashLimits): PasswordHasher {
  const limit = pLimit(limits.concurrency);
  let admitted = 0; // running or waiting; counted here, as p-limit starts a task a tick late
  let meanMs = 50; // moving mean of one hash, for the retry hint
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    if (admitted >= limits.concurrency + limits.maxQueued) {
      throw new HashQueueFullError("too many logins are waiting for a password check; retry shortly", {
        reason: "PASSWORD_CHECKS_BUSY",
        retryAfterMs: Math.max(100, Math.ceil((meanMs * admitted) / limits.concurrency)),
      });
    }
    admitted++;
    try {
      return await limit(async () => {
        const t0 = performance.now();
        try {
          return await f();
        } finally {
          meanMs += (performance.now() - t0 - meanMs) / 8;
        }
      });
    } finally {
      admitted--;
    }
  };
  return {
    hash: (password) => run(() => hasher.hash(password)),
    verify: (hash, password) => run(() => hasher.verify(hash, password)),
    verifyDummy: (password) => run(() => hasher.verifyDummy(password)),
  };
}
