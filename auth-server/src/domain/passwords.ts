import argon2 from "argon2";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of one verification, so unknown usernames answer as slowly as known ones. */
  verifyDummy(password: string): Promise<void>;
}

export function argon2Hasher(p: { memoryKiB: number; timeCost: number; parallelism: number }): PasswordHasher {
  const options = { type: argon2.argon2id as 2, memoryCost: p.memoryKiB, timeCost: p.timeCost, parallelism: p.parallelism };
  // argon2 runs on libuv's thread pool, so hashing never blocks the event loop.
  const dummy = argon2.hash("dummy password for timing", options);
  return {
    hash: (password) => argon2.hash(password, options),
    verify: (hash, password) => argon2.verify(hash, password),
    async verifyDummy(password) {
      await argon2.verify(await dummy, password);
    },
  };
}
