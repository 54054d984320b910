// Failed-login limits that slow a guesser without letting anyone lock the real user out:
//  - per (canonical username, client address): maxFailuresPerUserAddress attempts per 15 min,
//    then RESOURCE_EXHAUSTED for that pair only; a success clears it;
//  - per username across all addresses: after slowAfterFailuresPerUser failures in 15 min,
//    each further attempt waits 100 ms, 200 ms, 400 ms, ... up to maxDelayMs (never a refusal),
//    except from addresses that logged in as that user in the last 7 days;
//  - per address: maxAttemptsPerPeer attempts per minute, whatever the username; a success
//    gives its attempt back, and an address that logged in as a user in the last 7 days is
//    not held to it for that user (its failures there still count per pair), so junk from a
//    shared address (NAT, proxy) cannot lock out those who log in from it;
//  - per address: maxRegistersPerPeer registrations per minute (each costs a password hash).
// Addresses are counted by clientKey: IPv4 as is, IPv6 by /64.
import { clientKey, ResourceExhaustedError } from "@voting/server-kit";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export interface LoginLimitSettings {
  maxFailuresPerUserAddress: number;
  slowAfterFailuresPerUser: number;
  maxDelayMs: number;
  maxAttemptsPerPeer: number;
  maxRegistersPerPeer: number;
}

export const FAILURE_WINDOW_SECONDS = 15 * 60;
export const TRUSTED_ADDRESS_MS = 7 * 24 * 3600 * 1000;
const BASE_DELAY_MS = 100;
const MAX_TRUSTED_PAIRS = 100_000;

/** Delay before checking a password when `failures` failures for the username are on record. */
export function delayFor(failures: number, s: Pick<LoginLimitSettings, "slowAfterFailuresPerUser" | "maxDelayMs">): number {
  const excess = failures - s.slowAfterFailuresPerUser;
  if (excess < 0) return 0;
  return Math.min(s.maxDelayMs, BASE_DELAY_MS * 2 ** Math.min(excess, 30));
}

export interface LoginGate {
  /** Before checking a password: refuses or delays, and reserves one attempt of the pair (of the address alone without a username). */
  admit(username: string | undefined, peer: string): Promise<void>;
  failed(username: string, peer: string): Promise<void>;
  succeeded(username: string, peer: string): Promise<void>;
  /** An admitted attempt whose password was never checked (the server was busy): gives back what admit took. */
  withdraw(username: string | undefined, peer: string): Promise<void>;
  /** Before hashing a new user's password: refuses past the address's registration budget. */
  admitRegister(peer: string): Promise<void>;
  /** A registration refused before its hash (the server was busy): gives back what admitRegister took. */
  withdrawRegister(peer: string): Promise<void>;
}

export function loginLimits(s: LoginLimitSettings, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)), now = Date.now): LoginGate {
  const attemptsPerPeer = new RateLimiterMemory({ points: s.maxAttemptsPerPeer, duration: 60 });
  const registersPerPeer = new RateLimiterMemory({ points: s.maxRegistersPerPeer, duration: 60 });
  const perPair = new RateLimiterMemory({ points: s.maxFailuresPerUserAddress, duration: FAILURE_WINDOW_SECONDS });
  const perUser = new RateLimiterMemory({ points: Number.MAX_SAFE_INTEGER, duration: FAILURE_WINDOW_SECONDS });
  // Insertion order is recency order (re-inserted on each success), so the oldest go first.
  const trusted = new Map<string, number>();
  const pair = (username: string, peer: string) => `${username}\n${clientKey(peer)}`;

  const tooMany = (what: string) => (err: unknown) => {
    if (err instanceof RateLimiterRes) {
      throw new ResourceExhaustedError(`too many ${what}; try again in ${Math.ceil(err.msBeforeNext / 1000)} s`, { reason: "TOO_MANY_ATTEMPTS", retryAfterMs: err.msBeforeNext });
    }
    throw err;
  };
  const isTrusted = (key: string) => {
    const until = trusted.get(key);
    if (until !== undefined && until < now()) trusted.delete(key);
    return until !== undefined && until >= now();
  };

  return {
    async admit(username, peer) {
      const key = username === undefined ? undefined : pair(username, peer);
      const trustedPair = key !== undefined && isTrusted(key);
      if (!trustedPair) await attemptsPerPeer.consume(clientKey(peer)).catch(tooMany("login attempts from this address"));
      if (username === undefined || key === undefined) return;
      await perPair.consume(key).catch(tooMany("failed logins for this user from this address"));
      if (trustedPair) return;
      const failures = (await perUser.get(username))?.consumedPoints ?? 0;
      const ms = delayFor(failures, s);
      if (ms > 0) await sleep(ms);
    },
    async failed(username) {
      await perUser.consume(username);
    },
    async succeeded(username, peer) {
      const key = pair(username, peer);
      // admit took a point from the address unless the pair was trusted then.
      if (!isTrusted(key)) await attemptsPerPeer.reward(clientKey(peer), 1);
      await perPair.delete(key);
      trusted.delete(key);
      trusted.set(key, now() + TRUSTED_ADDRESS_MS);
      if (trusted.size > MAX_TRUSTED_PAIRS) trusted.delete(trusted.keys().next().value!);
    },
    async withdraw(username, peer) {
      const key = username === undefined ? undefined : pair(username, peer);
      if (key === undefined || !isTrusted(key)) await attemptsPerPeer.reward(clientKey(peer), 1);
      if (key !== undefined) await perPair.reward(key, 1);
    },
    async admitRegister(peer) {
      await registersPerPeer.consume(clientKey(peer)).catch(tooMany("registrations from this address"));
    },
    async withdrawRegister(peer) {
      await registersPerPeer.reward(clientKey(peer), 1);
    },
  };
}
