// Token issuing. The key ring (a key file, or keys sealed in the store) is reloaded while
// running: the key that signs is looked up per token, every published key verifies.
import { decodeJwt, SignJWT, type JWK } from "jose";
import { randomUUID, type KeyObject } from "node:crypto";
import { ACCESS_TOKEN_TYPE, CLOCK_TOLERANCE_SECONDS, REFRESH_TOKEN_TYPE, TOKEN_ALGORITHM, UnauthenticatedError, verifyToken, type KeyRing } from "@voting/server-kit";
import type { User } from "./users.js";
import type { RefreshFamilyRepository } from "../db/refresh-family-repository.js";

export interface TokenPair {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  /** Told when a background purge of expired families fails (logins go on). */
  onPurgeFailed?(err: unknown): void;
}

export interface TokenIssuer {
  /** A new login: a new refresh-token family. */
  issue(user: User): Promise<TokenPair>;
  /**
   * Spends a refresh token for a new pair of the same family (RFC 9700 4.14.2): a token used
   * twice revokes its whole family. `userOf` finds the token's user, or throws.
   */
  rotate(token: string, userOf: (userId: number) => Promise<User>): Promise<TokenPair>;
  publicKeys(): JWK[];
  /** Key lookup for verifying access tokens locally. */
  keyFor(kid: string | undefined): Promise<KeyObject>;
}

/** Families whose newest refresh token expired are deleted at most this often, on login. */
const PURGE_INTERVAL_MS = 60_000;

export function tokenIssuer(keys: KeyRing, s: TokenSettings, families: RefreshFamilyRepository): TokenIssuer {
  const sign = (user: User, type: string, audience: string, ttl: number, now: number, jti: string = randomUUID(), extra: Record<string, string> = {}) => {
    const { kid, privateKey } = keys.signer();
    return new SignJWT({ role: user.role, name: user.username, ...extra })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: type })
      .setSubject(String(user.id))
      .setIssuer(s.issuer)
      .setAudience(audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + ttl)
      .setJti(jti)
      .sign(privateKey);
  };

  const keyFor = async (kid: string | undefined) => {
    const key = keys.keyFor(kid);
    if (!key) throw new UnauthenticatedError("token is signed by an unknown key", { reason: "TOKEN_INVALID" });
    return key;
  };

  const at = (now: number, ttl: number) => new Date((Math.floor(now / 1000) + ttl) * 1000);
  // A family row outlives its newest token by the verifiers' clock tolerance.
  const familyExpiry = (now: number) => at(now, s.refreshTtlSeconds).getTime() + CLOCK_TOLERANCE_SECONDS * 1000;

  const pair = async (user: User, family: string, jti: string, now: number): Promise<TokenPair> => {
    const [accessToken, refreshToken] = await Promise.all([
      sign(user, ACCESS_TOKEN_TYPE, s.audience, s.accessTtlSeconds, now),
      // Refresh tokens are for the issuer alone: another audience and another type.
      sign(user, REFRESH_TOKEN_TYPE, s.issuer, s.refreshTtlSeconds, now, jti, { fam: family }),
    ]);
    return { accessToken, accessExpiresAt: at(now, s.accessTtlSeconds), refreshToken, refreshExpiresAt: at(now, s.refreshTtlSeconds) };
  };

  let lastPurge = 0;
  const purgeNowAndThen = (now: number) => {
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    families.purgeExpired(now).catch((err: unknown) => s.onPurgeFailed?.(err));
  };

  return {
    async issue(user) {
      const now = Date.now();
      purgeNowAndThen(now);
      const family = randomUUID();
      const jti = randomUUID();
      await families.create({ family, userId: user.id, jti, expiresAt: familyExpiry(now) });
      return pair(user, family, jti, now);
    },
    async rotate(token, userOf) {
      const claims = await verifyToken(token, { keys: (h) => keyFor(h.kid), issuer: s.issuer, audience: s.issuer, type: REFRESH_TOKEN_TYPE });
      const family = decodeJwt(token).fam;
      if (typeof family !== "string") throw new UnauthenticatedError("refresh token has no login family; log in again", { reason: "REFRESH_TOKEN_INVALID" });
      const user = await userOf(claims.userId);
      const now = Date.now();
      const next = randomUUID();
      if (await families.rotate(family, claims.jti, next, familyExpiry(now))) return pair(user, family, next, now);
      const state = await families.state(family);
      if (state === undefined) throw new UnauthenticatedError("refresh token is no longer known; log in again", { reason: "REFRESH_TOKEN_INVALID" });
      if (state === "revoked") throw new UnauthenticatedError("the refresh tokens of this login have been revoked; log in again", { reason: "REFRESH_TOKEN_REVOKED" });
      // Someone used this token before: the legitimate client or a thief holds a newer one.
      await families.revoke(family);
      throw new UnauthenticatedError("refresh token was already used; every refresh token of this login is now revoked; log in again", { reason: "REFRESH_TOKEN_REUSED" });
    },
    publicKeys: () => keys.publicJwks(),
    keyFor,
  };
}
